#include "claudegate/store/sqlite/sqlite_usage_store.hpp"

#include "own_connection.hpp"
#include "usage_queries.hpp"

namespace claudegate::store::sqlite {

struct SqliteUsageStore::Database {
  std::unique_ptr<OwnConnection<UsageQueries>> own;
};

SqliteUsageStore::SqliteUsageStore() : db_(std::make_unique<Database>()) {}

SqliteUsageStore::~SqliteUsageStore() = default;

std::shared_ptr<SqliteUsageStore> SqliteUsageStore::Open(const config::Store& settings,
                                                         std::string& error) {
  std::shared_ptr<SqliteUsageStore> store(new SqliteUsageStore());
  store->db_->own = OwnConnection<UsageQueries>::Open(settings, "usage ledger", error);
  return store->db_->own ? store : nullptr;
}

Awaitable<bool> SqliteUsageStore::Append(std::vector<UsageRecord> rows) {
  return db_->own->Run("writing rows", false, [rows = std::move(rows)](UsageQueries& queries) {
    queries.Append(rows);
    return true;
  });
}

bool SqliteUsageStore::AppendNow(std::vector<UsageRecord> rows) {
  return db_->own->RunNow("writing the last rows", false, [&rows](UsageQueries& queries) {
    queries.Append(rows);
    return true;
  });
}

Awaitable<Lookup<std::vector<UsageRecord>>> SqliteUsageStore::Rows(UsageFilter filter,
                                                                   std::int64_t limit,
                                                                   std::int64_t offset) {
  using Answer = Lookup<std::vector<UsageRecord>>;
  return db_->own->Run("reading rows", Answer{LookupStatus::kUnavailable, {}},
                       [filter = std::move(filter), limit, offset](UsageQueries& queries) {
                         return Answer{LookupStatus::kFound, queries.Rows(filter, limit, offset)};
                       });
}

Awaitable<Lookup<std::vector<UsageSum>>> SqliteUsageStore::Sum(UsageFilter filter,
                                                               UsageGrouping grouping) {
  using Answer = Lookup<std::vector<UsageSum>>;
  return db_->own->Run("summing rows", Answer{LookupStatus::kUnavailable, {}},
                       [filter = std::move(filter), grouping](UsageQueries& queries) {
                         return Answer{LookupStatus::kFound, queries.Sum(filter, grouping)};
                       });
}

Awaitable<std::int64_t> SqliteUsageStore::PruneOlderThan(std::int64_t cutoff_ms) {
  return db_->own->Run("pruning", std::int64_t{-1}, [cutoff_ms](UsageQueries& queries) {
    return queries.PruneOlderThan(cutoff_ms);
  });
}

}  // namespace claudegate::store::sqlite
