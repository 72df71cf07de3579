#include "schema.hpp"

#include <array>
#include <string>
#include <vector>

namespace claudegate::store::sqlite {
namespace {

// Migration 1: stored Responses, one row per item (session 6). Kept as shipped: a database made
// by it is upgraded by migration 2.
constexpr const char* kItemRows = R"sql(
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
)sql";

// Migration 2: one row per turn (docs/performance.md, "Stored responses"). A turn is one `turns`
// row holding the Response as served (with `output`) and its input items as two JSON texts, plus
// one narrow `item_index` row per item id for `item_reference` lookups: per turn that is one
// table row and a few small index entries instead of a row and two index entries per item.
// `seq` (the rowid) is the order turns were saved in, so the table grows at its end. Item ids may
// repeat across turns (clients resend items), hence the (item_id, turn) key; the trigger removes
// a turn's index rows whenever the turn goes (DELETE, pruning, a turn saved again).
// `previous_id` has no foreign key: the turn it names may be deleted or pruned, and the lookup
// then reports the chain as broken instead of refusing the write.
constexpr const char* kTurnRows = R"sql(
CREATE TABLE turns (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  previous_id TEXT,
  created_at  INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  response    TEXT NOT NULL,
  input       TEXT NOT NULL
);
CREATE INDEX turns_by_created_at ON turns (created_at);
CREATE TABLE item_index (
  item_id TEXT NOT NULL,
  turn    INTEGER NOT NULL,
  PRIMARY KEY (item_id, turn)
) WITHOUT ROWID;
CREATE INDEX item_index_by_turn ON item_index (turn);
CREATE TRIGGER turns_delete_items AFTER DELETE ON turns BEGIN
  DELETE FROM item_index WHERE turn = old.seq;
END;
)sql";

// Moves every turn of migration 1's tables into migration 2's, in the order they were saved, then
// drops the old tables: the response text gets its `output` back from the output item rows (as
// ResponseQueries::Get did), the input items become one array. Items are spliced in as stored
// text, not re-serialised.
void ConvertItemRowsToTurnRows(Connection& connection) {
  Statement turns(connection.get(),
                  "SELECT id, previous_id, created_at, response FROM responses ORDER BY rowid");
  Statement items(connection.get(),
                  "SELECT is_output, item_id, item FROM items WHERE response_id = ?1 ORDER BY seq");
  Statement insert(connection.get(),
                   "INSERT INTO turns (id, previous_id, created_at, bytes, response, input) "
                   "VALUES (?1, ?2, ?3, ?4, json_set(?5, '$.output', json(?6)), ?7)");
  Statement index(connection.get(),
                  "INSERT OR IGNORE INTO item_index (item_id, turn) VALUES (?1, ?2)");
  StatementUse turn(turns);
  while (turn->Step()) {
    const std::string id(turn->Text(0));
    std::string input = "[";
    std::string output = "[";
    std::vector<std::string> item_ids;  // in seq order: inputs, then outputs
    {
      StatementUse item(items);
      item->Bind(1, id);
      while (item->Step()) {
        const bool is_output = item->Int(0) != 0;
        std::string& into = is_output ? output : input;
        if (into.size() > 1) {
          into += ',';
        }
        into += item->Text(2);
        if (!item->IsNull(1)) {
          item_ids.emplace_back(item->Text(1));
        }
      }
    }
    input += ']';
    output += ']';
    const std::string response(turn->Text(3));
    {
      StatementUse use(insert);
      use->Bind(1, id);
      if (turn->IsNull(1)) {
        use->BindNull(2);
      } else {
        use->Bind(2, turn->Text(1));
      }
      use->Bind(3, turn->Int(2));
      use->Bind(4, static_cast<std::int64_t>(response.size() + output.size() + input.size()));
      use->Bind(5, response);
      use->Bind(6, output);
      use->Bind(7, input);
      use->Step();
    }
    const std::int64_t seq = connection.LastInsertRowid();
    for (const auto& item_id : item_ids) {
      StatementUse use(index);
      use->Bind(1, item_id);
      use->Bind(2, seq);
      use->Step();
    }
  }
}

void CreateItemRows(Connection& connection) { connection.Exec(kItemRows); }

void MoveToTurnRows(Connection& connection) {
  connection.Exec(kTurnRows);
  ConvertItemRowsToTurnRows(connection);
  connection.Exec("DROP TABLE items; DROP TABLE responses;");
}

// Migration 3: virtual keys (docs/keys.md). `token` is the SHA-256 of the key in hex; the key is
// never stored. `key_version` counts every change to a key's definition (not its spend), so a
// daemon notices what `claudegate key …` or another replica changed by polling one row
// (KeyQueries::Version).
constexpr const char* kKeys = R"sql(
CREATE TABLE keys (
  token                 TEXT PRIMARY KEY,
  key_name              TEXT NOT NULL,
  key_alias             TEXT UNIQUE,
  models                TEXT NOT NULL,
  rpm_limit             INTEGER,
  tpm_limit             INTEGER,
  max_parallel_requests INTEGER,
  max_budget            REAL,
  budget_duration       INTEGER,
  budget_reset_at       INTEGER,
  spend                 REAL NOT NULL DEFAULT 0,
  expires_at            INTEGER,
  blocked               INTEGER NOT NULL DEFAULT 0,
  metadata              TEXT NOT NULL,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE key_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  n  INTEGER NOT NULL
);
INSERT INTO key_version (id, n) VALUES (1, 0);
)sql";

void CreateKeys(Connection& connection) { connection.Exec(kKeys); }

// Migration 4: the usage ledger (docs/ledger.md), one row per model request, never content. Rows
// are appended in time order (the rowid grows with `time_ms`), read by time range, and pruned
// from the oldest end; the one index serves all three.
constexpr const char* kUsage = R"sql(
CREATE TABLE usage (
  seq                 INTEGER PRIMARY KEY,
  time_ms             INTEGER NOT NULL,
  request_id          TEXT NOT NULL,
  key_token           TEXT NOT NULL,
  key_alias           TEXT NOT NULL,
  route               TEXT NOT NULL,
  model               TEXT NOT NULL,
  model_used          TEXT NOT NULL,
  stream              INTEGER NOT NULL,
  input_tokens        INTEGER NOT NULL,
  output_tokens       INTEGER NOT NULL,
  cache_read_tokens   INTEGER NOT NULL,
  cache_write_tokens  INTEGER NOT NULL,
  cost_usd            REAL NOT NULL,
  status              INTEGER NOT NULL,
  error               TEXT NOT NULL,
  latency_ms          INTEGER NOT NULL,
  ttft_ms             INTEGER,
  upstream_request_id TEXT NOT NULL,
  retries             INTEGER NOT NULL
);
CREATE INDEX usage_by_time ON usage (time_ms);
)sql";

void CreateUsage(Connection& connection) { connection.Exec(kUsage); }

// Migration N is kMigrations[N - 1], run in one transaction with the version it records. Never
// edit one that has shipped: append a new one.
using Migration = void (*)(Connection&);
constexpr std::array<Migration, 4> kMigrations = {CreateItemRows, MoveToTurnRows, CreateKeys,
                                                  CreateUsage};

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
  // Checkpoint every 10,000 WAL pages (~40 MiB, under the size limit above) instead of SQLite's
  // 1,000: a page that many commits dirty (an index's hot pages) is copied back to the database
  // once per checkpoint, so fewer checkpoints write less. Measured on the store's write path
  // (bench/micro/store_bench.cpp, BM_StoreSave16Turns): -32 % wall time per batch
  // (docs/performance.md, "Stored responses";
  // https://www.sqlite.org/pragma.html#pragma_wal_autocheckpoint).
  connection.Exec("PRAGMA wal_autocheckpoint = 10000");
  for (std::int64_t next = version + 1; next <= LatestSchemaVersion(); ++next) {
    Transaction transaction(connection);
    kMigrations.at(static_cast<std::size_t>(next - 1))(connection);
    connection.Exec("PRAGMA user_version = " + std::to_string(next));
    transaction.Commit();
  }
}

}  // namespace claudegate::store::sqlite
