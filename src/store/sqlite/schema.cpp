#include "schema.hpp"

#include <array>
#include <string>

namespace claudegate::store::sqlite {
namespace {

// Migration N is kMigrations[N - 1]. Never edit one that has shipped: append a new one.
constexpr std::array<const char*, 1> kMigrations = {
    // 1: stored Responses (docs/configuration.md, "The store"). A turn is one `responses` row
    // (the Response object without `output`) and its items, inputs first then outputs, keyed by
    // (response_id, seq): item ids may repeat across turns, so `item_id` is only indexed.
    // `previous_id` has no foreign key: the turn it names may be deleted or pruned, and the
    // lookup then reports the chain as broken instead of refusing the write.
    R"sql(
CREATE TABLE responses (
  id          TEXT PRIMARY KEY,
  previous_id TEXT,
  created_at  INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  response    TEXT NOT NULL
);
CREATE INDEX responses_by_created_at ON responses (created_at);
CREATE TABLE items (
  response_id TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  is_output   INTEGER NOT NULL,
  item_id     TEXT,
  item        TEXT NOT NULL,
  PRIMARY KEY (response_id, seq)
) WITHOUT ROWID;
CREATE INDEX items_by_item_id ON items (item_id);
)sql",
};

}  // namespace

std::int64_t LatestSchemaVersion() { return static_cast<std::int64_t>(kMigrations.size()); }

void PrepareDatabase(Connection& connection) {
  // A second process (or `sqlite3 claudegate.db`) holding the lock makes us wait this long
  // instead of failing at once (https://www.sqlite.org/pragma.html#pragma_busy_timeout).
  connection.Exec("PRAGMA busy_timeout = 5000");
  const std::int64_t version = connection.QueryInt("PRAGMA user_version");
  if (version > LatestSchemaVersion()) {
    throw DbError(1, "the database has schema version " + std::to_string(version) +
                         ", newer than this claudegate knows (" +
                         std::to_string(LatestSchemaVersion()) + ")");
  }
  if (version == 0) {
    // Pruned space goes back to the file system (PRAGMA incremental_vacuum after pruning). This
    // can only be chosen before the first table exists, and before the switch to WAL (which
    // writes the header): https://www.sqlite.org/pragma.html#pragma_auto_vacuum.
    connection.Exec("PRAGMA auto_vacuum = INCREMENTAL");
  }
  // WAL: readers never block the writer, and a commit is one append to the -wal file
  // (https://www.sqlite.org/wal.html). With synchronous=NORMAL a commit is not fsynced, only
  // each checkpoint is: a process crash or kill -9 loses nothing that was committed (the WAL is
  // in the OS's page cache), a power loss may lose the last transactions but never corrupts the
  // database (https://www.sqlite.org/pragma.html#pragma_synchronous). Stored responses are a
  // convenience the client can rebuild, so durability against power loss is not worth an fsync
  // per batch.
  if (connection.QueryText("PRAGMA journal_mode = WAL") != "wal") {
    throw DbError(1, "the database could not be switched to WAL mode");
  }
  connection.Exec("PRAGMA synchronous = NORMAL");
  connection.Exec("PRAGMA foreign_keys = ON");
  // Keeps the -wal file from staying at its high-water mark after a burst.
  connection.Exec("PRAGMA journal_size_limit = 67108864");
  for (std::int64_t next = version + 1; next <= LatestSchemaVersion(); ++next) {
    Transaction transaction(connection);
    connection.Exec(kMigrations.at(static_cast<std::size_t>(next - 1)));
    connection.Exec("PRAGMA user_version = " + std::to_string(next));
    transaction.Commit();
  }
}

}  // namespace claudegate::store::sqlite
