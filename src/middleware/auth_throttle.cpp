#include "claudegate/middleware/auth_throttle.hpp"

#include <algorithm>

namespace claudegate::middleware {

std::optional<AuthThrottle::Clock::duration> AuthThrottle::BlockedFor(const std::string& client,
                                                                      Clock::time_point now) {
  if (!enabled()) {
    return std::nullopt;
  }
  const std::lock_guard lock(mutex_);
  const auto found = records_.find(client);
  if (found == records_.end()) {
    return std::nullopt;
  }
  const Record& record = found->second;
  if (record.blocked_until > now) {
    return record.blocked_until - now;
  }
  if (Expired(record, now)) {
    // Nothing left to remember: dropping it lets HasRecords() fall back to false.
    records_.erase(found);
    tracked_.store(records_.size(), std::memory_order_relaxed);
  }
  return std::nullopt;
}

bool AuthThrottle::RecordFailure(const std::string& client, Clock::time_point now) {
  if (!enabled()) {
    return false;
  }
  const std::lock_guard lock(mutex_);
  auto found = records_.find(client);
  if (found == records_.end()) {
    if (records_.size() >= kMaxTrackedClients) {
      MakeRoom(now);
    }
    found = records_.emplace(client, Record{0, now, {}}).first;
    tracked_.store(records_.size(), std::memory_order_relaxed);
  }
  Record& record = found->second;
  if (now - record.window_start >= settings_.window) {
    record.failures = 0;
    record.window_start = now;
  }
  ++record.failures;
  if (record.failures < settings_.max_failures) {
    return false;
  }
  // Over the limit: block, and start counting afresh when the block ends.
  record.blocked_until = now + settings_.block;
  record.failures = 0;
  record.window_start = record.blocked_until;
  return true;
}

std::size_t AuthThrottle::tracked_clients() const {
  const std::lock_guard lock(mutex_);
  return records_.size();
}

bool AuthThrottle::Expired(const Record& record, Clock::time_point now) const {
  return record.blocked_until <= now && now - record.window_start >= settings_.window;
}

void AuthThrottle::MakeRoom(Clock::time_point now) {
  std::erase_if(records_, [&](const auto& entry) { return Expired(entry.second, now); });
  tracked_.store(records_.size(), std::memory_order_relaxed);
  if (records_.size() < kMaxTrackedClients) {
    return;
  }
  // Everyone is live: drop the entry that matters least (its block ends first).
  const auto victim = std::min_element(
      records_.begin(), records_.end(),
      [](const auto& a, const auto& b) { return a.second.blocked_until < b.second.blocked_until; });
  records_.erase(victim);
  tracked_.store(records_.size(), std::memory_order_relaxed);
}

}  // namespace claudegate::middleware
