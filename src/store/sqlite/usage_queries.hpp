// The `usage` table's statements (migration 4 in schema.cpp), synchronous on one connection:
// SqliteUsageStore runs them on its worker thread. Private to src/store.
#pragma once

#include <cstdint>
#include <vector>

#include "claudegate/store/usage_record.hpp"

#include "connection.hpp"

namespace claudegate::store::sqlite {

class UsageQueries {
 public:
  explicit UsageQueries(Connection& connection);

  /// Appends `rows` in one transaction.
  void Append(const std::vector<UsageRecord>& rows);
  /// The rows `filter` selects, newest first.
  [[nodiscard]] std::vector<UsageRecord> Rows(const UsageFilter& filter, std::int64_t limit,
                                              std::int64_t offset);
  /// The sums of the rows `filter` selects, by `grouping`.
  [[nodiscard]] std::vector<UsageSum> Sum(const UsageFilter& filter, const UsageGrouping& grouping);
  /// Deletes rows older than `cutoff_ms`, in chunks; returns how many.
  std::int64_t PruneOlderThan(std::int64_t cutoff_ms);

 private:
  Connection& connection_;
  Statement insert_;
};

}  // namespace claudegate::store::sqlite
