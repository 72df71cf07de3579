#include "claudegate/store/sqlite/sqlite_usage_store.hpp"

#include <future>

#include <spdlog/spdlog.h>

#include "../worker.hpp"
#include "connection.hpp"
#include "database_file.hpp"
#include "schema.hpp"
#include "usage_queries.hpp"

namespace claudegate::store::sqlite {

struct SqliteUsageStore::Database {
  explicit Database(const std::string& path) : connection(path) {
    PrepareDatabase(connection);
    queries = std::make_unique<UsageQueries>(connection);
  }
  Connection connection;
  std::unique_ptr<UsageQueries> queries;
};

namespace {

// Every job ends here on a database failure: logged (SQLite's message; rows hold no secret), and
// reported as "unavailable" to the caller.
void LogUsageFailure(const char* operation, const std::exception& e) {
  spdlog::error("usage ledger: {} failed: {}", operation, e.what());
}

}  // namespace

SqliteUsageStore::SqliteUsageStore() : worker_(std::make_unique<Worker>()) {}

SqliteUsageStore::~SqliteUsageStore() {
  worker_->Stop();  // lets queued jobs finish; the connection closes after
}

std::shared_ptr<SqliteUsageStore> SqliteUsageStore::Open(const config::Store& settings,
                                                         std::string& error) {
  std::shared_ptr<SqliteUsageStore> store(new SqliteUsageStore());
  try {
    // On the caller's thread at start-up, then only on the worker (as SqliteKeyStore::Open).
    store->db_ = std::make_unique<Database>(CreateDatabaseFile(settings));
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
  return store;
}

Awaitable<bool> SqliteUsageStore::Append(std::vector<UsageRecord> rows) {
  return worker_->Run<bool>([this, rows = std::move(rows)]() -> bool {
    try {
      db_->queries->Append(rows);
      return true;
    } catch (const std::exception& e) {
      LogUsageFailure("writing rows", e);
      return false;
    }
  });
}

bool SqliteUsageStore::AppendNow(std::vector<UsageRecord> rows) {
  std::promise<bool> written;
  auto result = written.get_future();
  net::post(worker_->executor(), [this, &rows, &written] {
    try {
      db_->queries->Append(rows);
      written.set_value(true);
    } catch (const std::exception& e) {
      LogUsageFailure("writing the last rows", e);
      written.set_value(false);
    }
  });
  return result.get();
}

Awaitable<Lookup<std::vector<UsageRecord>>> SqliteUsageStore::Rows(UsageFilter filter,
                                                                   std::int64_t limit,
                                                                   std::int64_t offset) {
  return worker_->Run<Lookup<std::vector<UsageRecord>>>(
      [this, filter = std::move(filter), limit, offset]() -> Lookup<std::vector<UsageRecord>> {
        try {
          return {LookupStatus::kFound, db_->queries->Rows(filter, limit, offset)};
        } catch (const std::exception& e) {
          LogUsageFailure("reading rows", e);
          return {LookupStatus::kUnavailable, {}};
        }
      });
}

Awaitable<Lookup<std::vector<UsageSum>>> SqliteUsageStore::Sum(UsageFilter filter,
                                                               UsageGrouping grouping) {
  return worker_->Run<Lookup<std::vector<UsageSum>>>(
      [this, filter = std::move(filter), grouping]() -> Lookup<std::vector<UsageSum>> {
        try {
          return {LookupStatus::kFound, db_->queries->Sum(filter, grouping)};
        } catch (const std::exception& e) {
          LogUsageFailure("summing rows", e);
          return {LookupStatus::kUnavailable, {}};
        }
      });
}

Awaitable<std::int64_t> SqliteUsageStore::PruneOlderThan(std::int64_t cutoff_ms) {
  return worker_->Run<std::int64_t>([this, cutoff_ms]() -> std::int64_t {
    try {
      return db_->queries->PruneOlderThan(cutoff_ms);
    } catch (const std::exception& e) {
      LogUsageFailure("pruning", e);
      return -1;
    }
  });
}

}  // namespace claudegate::store::sqlite
