#include "claudegate/ledger/usage_ledger.hpp"

#include <spdlog/spdlog.h>

namespace claudegate::ledger {

MillisClock SystemMillisClock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

UsageLedger::UsageLedger(metrics::GatewayMetrics* metrics, std::size_t max_queued)
    : metrics_(metrics), max_queued_(max_queued) {}

void UsageLedger::Record(store::UsageRecord row) {
  {
    const std::lock_guard lock(mutex_);
    if (rows_.size() < max_queued_) {
      rows_.push_back(std::move(row));
      return;
    }
  }
  CountDropped(1);
}

std::vector<store::UsageRecord> UsageLedger::Take() {
  const std::lock_guard lock(mutex_);
  std::vector<store::UsageRecord> taken(std::make_move_iterator(rows_.begin()),
                                        std::make_move_iterator(rows_.end()));
  rows_.clear();
  return taken;
}

void UsageLedger::PutBack(std::vector<store::UsageRecord> rows) {
  std::size_t dropped = 0;
  {
    const std::lock_guard lock(mutex_);
    rows_.insert(rows_.begin(), std::make_move_iterator(rows.begin()),
                 std::make_move_iterator(rows.end()));
    while (rows_.size() > max_queued_) {
      rows_.pop_front();
      ++dropped;
    }
  }
  CountDropped(dropped);
}

std::size_t UsageLedger::queued() const {
  const std::lock_guard lock(mutex_);
  return rows_.size();
}

void UsageLedger::CountDropped(std::size_t rows) {
  if (rows == 0) {
    return;
  }
  // Once per batch at most in the log: a full queue means the store is failing or far too slow.
  spdlog::warn("usage ledger: {} rows dropped (queue full; claudegate_usage_rows_total)", rows);
  if (metrics_ != nullptr) {
    metrics_->usage_rows.Add({"dropped"}, static_cast<double>(rows));
  }
}

void UsageLedger::CountWritten(std::size_t rows, bool written) {
  if (metrics_ != nullptr) {
    metrics_->usage_rows.Add({written ? "written" : "failed"}, static_cast<double>(rows));
  }
}

Awaitable<bool> UsageLedger::Write(store::UsageStore& store) {
  auto rows = Take();
  if (rows.empty()) {
    co_return true;
  }
  const std::size_t count = rows.size();
  // A copy goes to the store: on failure the rows come back here for the next pass.
  const bool written = co_await store.Append(rows);
  CountWritten(count, written);
  if (!written) {
    PutBack(std::move(rows));
  }
  co_return written;
}

bool UsageLedger::WriteNow(store::UsageStore& store) {
  auto rows = Take();
  if (rows.empty()) {
    return true;
  }
  const std::size_t count = rows.size();
  const bool written = store.AppendNow(std::move(rows));
  CountWritten(count, written);
  return written;
}

namespace {

// Hourly: rows age by the day, so a coarse pass keeps the table within a few rows of the TTL.
constexpr std::chrono::hours kPruneEvery{1};

Awaitable<void> PruneLedger(store::UsageStore& store, std::chrono::seconds ttl,
                            const MillisClock& now) {
  const std::int64_t cutoff =
      now() - std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
  const std::int64_t removed = co_await store.PruneOlderThan(cutoff);
  if (removed > 0) {
    spdlog::info("usage ledger: pruned {} rows older than usage_ttl", removed);
  }
}

}  // namespace

Awaitable<void> KeepLedgerWritten(UsageLedger& ledger, store::UsageStore& store, Timer& timer,
                                  std::chrono::milliseconds interval, std::chrono::seconds ttl,
                                  MillisClock now) {
  co_await PruneLedger(store, ttl, now);
  auto last_prune = std::chrono::steady_clock::now();
  for (;;) {
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait();
    if (ec) {
      co_return;  // cancelled: shutting down
    }
    co_await ledger.Write(store);
    if (std::chrono::steady_clock::now() - last_prune >= kPruneEvery) {
      co_await PruneLedger(store, ttl, now);
      last_prune = std::chrono::steady_clock::now();
    }
  }
}

}  // namespace claudegate::ledger
