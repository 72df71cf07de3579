/// @file sqlite_usage_store.hpp
/// The UsageStore in the same SQLite database as stored responses and keys (docs/ledger.md), on
/// its own connection and worker thread, so a report never queues behind response writes. Use
/// MakeUsageStore() (make_store.hpp).
#pragma once

#include <memory>
#include <string>

#include "claudegate/config/store.hpp"
#include "claudegate/store/usage_store.hpp"

namespace claudegate::store::sqlite {

class SqliteUsageStore final : public UsageStore {
 public:
  /// Opens (creating and migrating when needed) the database; nullptr and `error` on failure.
  [[nodiscard]] static std::shared_ptr<SqliteUsageStore> Open(const config::Store& settings,
                                                              std::string& error);
  ~SqliteUsageStore() override;
  SqliteUsageStore(const SqliteUsageStore&) = delete;
  SqliteUsageStore& operator=(const SqliteUsageStore&) = delete;

  Awaitable<bool> Append(std::vector<UsageRecord> rows) override;
  bool AppendNow(std::vector<UsageRecord> rows) override;
  Awaitable<Lookup<std::vector<UsageRecord>>> Rows(UsageFilter filter, std::int64_t limit,
                                                   std::int64_t offset) override;
  Awaitable<Lookup<std::vector<UsageSum>>> Sum(UsageFilter filter, UsageGrouping grouping) override;
  Awaitable<std::int64_t> PruneOlderThan(std::int64_t cutoff_ms) override;

 private:
  struct Database;
  SqliteUsageStore();

  std::unique_ptr<Database> db_;  // its connection and worker
};

}  // namespace claudegate::store::sqlite
