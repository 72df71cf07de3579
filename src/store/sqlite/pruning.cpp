#include "pruning.hpp"

namespace claudegate::store::sqlite {
namespace {

// Turns deleted per transaction: a lookup queued on the worker waits for one chunk at most.
constexpr std::int64_t kChunk = 500;
// Passes of PruneToSize: the per-turn byte counts only estimate the pages a turn holds.
constexpr int kMaxSizePasses = 8;

}  // namespace

std::int64_t UsedBytes(Connection& connection) {
  const std::int64_t pages =
      connection.QueryInt("PRAGMA page_count") - connection.QueryInt("PRAGMA freelist_count");
  return pages * connection.QueryInt("PRAGMA page_size");
}

std::int64_t DeleteInChunks(Connection& connection, Statement& remove, std::int64_t cutoff,
                            std::int64_t chunk) {
  std::int64_t removed = 0;
  for (;;) {
    Transaction transaction(connection);
    StatementUse use(remove);
    use->Bind(1, cutoff);
    use->Bind(2, chunk);
    use->Step();
    const std::int64_t changed = connection.Changes();
    transaction.Commit();
    removed += changed;
    if (changed < chunk) {
      break;
    }
  }
  if (removed > 0) {
    connection.Exec("PRAGMA incremental_vacuum");
  }
  return removed;
}

std::int64_t PruneExpired(Connection& connection, std::int64_t cutoff) {
  Statement remove(connection.get(),
                   "DELETE FROM turns WHERE rowid IN (SELECT rowid FROM turns "
                   "WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)");
  return DeleteInChunks(connection, remove, cutoff, kChunk);
}

std::int64_t PruneToSize(Connection& connection, std::int64_t max_bytes) {
  Statement oldest(connection.get(), "SELECT bytes FROM turns ORDER BY created_at, rowid LIMIT ?1");
  Statement remove(connection.get(),
                   "DELETE FROM turns WHERE rowid IN (SELECT rowid FROM turns "
                   "ORDER BY created_at, rowid LIMIT ?1)");
  const std::int64_t target = max_bytes / 10 * 9;
  std::int64_t removed = 0;
  for (int pass = 0; pass < kMaxSizePasses; ++pass) {
    const std::int64_t used = UsedBytes(connection);
    if (used <= (pass == 0 ? max_bytes : target)) {
      break;
    }
    // How many of the oldest turns hold the excess, by their recorded sizes.
    std::int64_t count = 0;
    {
      StatementUse use(oldest);
      use->Bind(1, kChunk);
      std::int64_t freed = 0;
      while (freed < used - target && use->Step()) {
        freed += use->Int(0);
        ++count;
      }
    }
    if (count == 0) {
      break;
    }
    Transaction transaction(connection);
    StatementUse use(remove);
    use->Bind(1, count);
    use->Step();
    removed += connection.Changes();
    transaction.Commit();
    connection.Exec("PRAGMA incremental_vacuum");
  }
  // Pages freed by anything else (replaced turns, deletes through the API) go back too, so the
  // file itself stays near the limit.
  if (connection.QueryInt("PRAGMA freelist_count") > 0) {
    connection.Exec("PRAGMA incremental_vacuum");
  }
  return removed;
}

}  // namespace claudegate::store::sqlite
