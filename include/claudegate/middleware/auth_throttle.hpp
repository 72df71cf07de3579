/// @file auth_throttle.hpp
/// Slows down guessing of the master key: a client that presents wrong keys too often is
/// refused for a while.
///
/// Wrong keys are counted per window and expire with it; a right key does NOT reset the count.
/// An attacker sharing the owner's address (one NAT, one proxy without X-Forwarded-For) would
/// otherwise get `max_failures - 1` fresh guesses after every request of the owner.
///
/// State is per client key (see client_address.hpp), so an attacker blocks only itself and the
/// owner keeps working from any other address. Memory is bounded: at most `kMaxTrackedClients`
/// entries; when full, expired entries go first, then the entry whose block ends soonest (an
/// attacker rotating through addresses can only push out other attackers' stale records).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace claudegate::middleware {

struct AuthThrottleSettings {
  std::size_t max_failures = 10;             ///< Wrong keys allowed per window; 0 = no throttle.
  std::chrono::milliseconds window{60'000};  ///< Failures older than this are forgotten.
  std::chrono::milliseconds block{300'000};  ///< How long a client is refused once over.
};

/// Thread-safe (one mutex; touched once per authenticated request).
class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxTrackedClients = 16'384;

  explicit AuthThrottle(AuthThrottleSettings settings) : settings_(settings) {}

  /// How long `client` is still refused, or nullopt when it may try a key. Forgets the client's
  /// record once its window and any block are over.
  [[nodiscard]] std::optional<Clock::duration> BlockedFor(const std::string& client,
                                                          Clock::time_point now);

  /// Counts a wrong key. Returns true when this failure starts a block.
  bool RecordFailure(const std::string& client, Clock::time_point now);

  [[nodiscard]] bool enabled() const { return settings_.max_failures > 0; }
  /// False while no client has a wrong key on record: the owner's requests then skip the lock
  /// and the client-address work entirely.
  [[nodiscard]] bool HasRecords() const { return tracked_.load(std::memory_order_relaxed) > 0; }
  [[nodiscard]] const AuthThrottleSettings& settings() const { return settings_; }
  [[nodiscard]] std::size_t tracked_clients() const;

 private:
  struct Record {
    std::size_t failures = 0;
    Clock::time_point window_start;
    Clock::time_point blocked_until;  ///< In the past when not blocked.
  };

  /// True when the record holds nothing any more: no block, and its window has passed.
  [[nodiscard]] bool Expired(const Record& record, Clock::time_point now) const;
  void MakeRoom(Clock::time_point now);

  AuthThrottleSettings settings_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Record> records_;
  std::atomic<std::size_t> tracked_{0};  ///< records_.size(), readable without the lock
};

}  // namespace claudegate::middleware
