/// @file key_limits.hpp
/// A virtual key's limits as arithmetic on a clock (docs/keys.md, "Limits"): pure, so the tests
/// drive it with a fake clock. keys::KeyRegistry holds one KeyUsage per key and calls these under
/// its lock.
///
/// Per-minute limits count the last 60 seconds in one-second buckets (a sliding window, so a
/// burst at a minute's boundary cannot get twice the limit through); the budget is USD since the
/// last reset, reset every `budget_duration` from the key's creation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "claudegate/error.hpp"
#include "claudegate/store/key_record.hpp"

namespace claudegate::keys {

/// Sums over the last 60 seconds, in one-second buckets: O(1) memory per key.
class MinuteWindow {
 public:
  void Add(std::int64_t now, std::int64_t amount);
  [[nodiscard]] std::int64_t Total(std::int64_t now);
  /// Seconds from `now` until the total is below `limit` if nothing more is added (1..60).
  [[nodiscard]] std::int64_t SecondsUntilBelow(std::int64_t limit, std::int64_t now);

 private:
  void Advance(std::int64_t now);

  std::array<std::int64_t, 60> buckets_{};
  std::int64_t newest_ = 0;  ///< The second `buckets_[newest_ % 60]` counts.
};

/// What one key has used: in memory only (a restart forgets the last minute, not the spend).
struct KeyUsage {
  MinuteWindow requests;
  MinuteWindow tokens;
  std::int64_t in_flight = 0;
};

/// Why a key may not make a request now: the route answers it in its own error shape.
struct KeyRefusal {
  Error error;
  std::string details;                      ///< For the access log, e.g. `key_rpm_limit`.
  std::optional<std::int64_t> retry_after;  ///< Seconds, when waiting helps.
};

/// Starts a new budget period when the current one is over (spend back to 0). True when it did.
bool ResetBudgetIfDue(store::KeyRecord& key, std::int64_t now);

/// Blocked (403) or expired (401): decided from the header alone.
[[nodiscard]] std::optional<KeyRefusal> CheckStanding(const store::KeyRecord& key,
                                                      std::int64_t now);

/// Whether `key` may call the model asked for as `requested` (an alias or id) that resolves to
/// `resolved` (the Anthropic id, empty when unknown). An empty list, or LiteLLM's
/// `all-proxy-models`, allows every model.
[[nodiscard]] bool AllowsModel(const store::KeyRecord& key, std::string_view requested,
                               std::string_view resolved);

/// Checks the budget, parallel, rpm and tpm limits at `now`; when all pass, counts the request
/// (one more in flight, one more this minute) and returns nullopt.
[[nodiscard]] std::optional<KeyRefusal> Admit(store::KeyRecord& key, KeyUsage& usage,
                                              std::int64_t now);

/// A request admitted by Admit() ended, having used `tokens` (in + out) costing `cost` USD.
void Finish(store::KeyRecord& key, KeyUsage& usage, std::int64_t tokens, double cost,
            std::int64_t now);

}  // namespace claudegate::keys
