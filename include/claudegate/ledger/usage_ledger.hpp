/// @file usage_ledger.hpp
/// The usage ledger's queue (docs/ledger.md): the reply path hands each finished request's row to
/// Record() (O(1), never waits on the disk); KeepLedgerWritten() appends the queued rows to the
/// store in one transaction every interval, off the request path (../shared DESIGN.md: the
/// hot path never waits on the store; bounded queues count and drop when full).
///
///     ledger.Record(std::move(row));                 // io thread, after the reply
///     co_spawn(io, KeepLedgerWritten(ledger, store, timer, 250ms, ttl, clock), detached);
///     ledger.WriteNow(store);                        // at shutdown, io threads stopped
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/net.hpp"
#include "claudegate/store/usage_record.hpp"
#include "claudegate/store/usage_store.hpp"

namespace claudegate::ledger {

/// Unix milliseconds now; injected so that pruning tests never sleep.
using MillisClock = std::function<std::int64_t()>;

/// The system clock in Unix milliseconds.
[[nodiscard]] MillisClock SystemMillisClock();

/// @par Thread Safety
/// Record, Take, PutBack and queued may be called from any thread.
class UsageLedger {
 public:
  /// At most `max_queued` rows wait for the store; more are dropped and counted
  /// (`claudegate_usage_rows_total{outcome="dropped"}`). `metrics` may be null (tests).
  UsageLedger(metrics::GatewayMetrics* metrics, std::size_t max_queued);

  /// Queues one row.
  void Record(store::UsageRecord row);
  /// Every queued row, oldest first; the queue is left empty.
  [[nodiscard]] std::vector<store::UsageRecord> Take();
  /// Puts back rows a failed write took (they go before anything queued since), dropping the
  /// oldest beyond the bound.
  void PutBack(std::vector<store::UsageRecord> rows);
  [[nodiscard]] std::size_t queued() const;

  /// Writes what is queued; true when there was nothing to write or it was written.
  Awaitable<bool> Write(store::UsageStore& store);
  /// The same, blocking: at shutdown, once the io threads have stopped.
  bool WriteNow(store::UsageStore& store);

 private:
  void CountDropped(std::size_t rows);
  void CountWritten(std::size_t rows, bool written);

  metrics::GatewayMetrics* metrics_;
  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::deque<store::UsageRecord> rows_;
};

/// Writes the ledger every `interval` and prunes rows older than `ttl` at start and hourly, until
/// `timer` is cancelled (shutdown; the gateway writes the last rows with WriteNow).
Awaitable<void> KeepLedgerWritten(UsageLedger& ledger, store::UsageStore& store, Timer& timer,
                                  std::chrono::milliseconds interval, std::chrono::seconds ttl,
                                  MillisClock now);

}  // namespace claudegate::ledger
