/// @file usage_store.hpp
/// Where the usage ledger lives (docs/ledger.md): one row per model request, appended in batches
/// by ledger::UsageLedger, summed by the reports. One interface, several backends, as for keys
/// (key_store.hpp): SQLite in the data directory today, PostgreSQL for replicas later. Every
/// awaitable call runs off the io threads and resumes on the caller's executor.
#pragma once

#include <cstdint>
#include <vector>

#include "claudegate/net.hpp"
#include "claudegate/store/response_store.hpp"
#include "claudegate/store/usage_record.hpp"

namespace claudegate::store {

class UsageStore {
 public:
  virtual ~UsageStore() = default;

  /// Appends the rows in one transaction; false when the store failed (nothing was written).
  virtual Awaitable<bool> Append(std::vector<UsageRecord> rows) = 0;

  /// The same, blocking the calling thread until written: for the last rows at shutdown, when
  /// the io threads have stopped. Not from a store's own thread.
  virtual bool AppendNow(std::vector<UsageRecord> rows) = 0;

  /// The rows `filter` selects, newest first, `limit` of them after skipping `offset`.
  virtual Awaitable<Lookup<std::vector<UsageRecord>>> Rows(UsageFilter filter, std::int64_t limit,
                                                           std::int64_t offset) = 0;

  /// The sums of the rows `filter` selects, grouped; groups ordered by period, then by model and
  /// key.
  virtual Awaitable<Lookup<std::vector<UsageSum>>> Sum(UsageFilter filter,
                                                       UsageGrouping grouping) = 0;

  /// Deletes the rows older than `cutoff_ms`; the number deleted, or -1 when the store failed.
  virtual Awaitable<std::int64_t> PruneOlderThan(std::int64_t cutoff_ms) = 0;
};

}  // namespace claudegate::store
