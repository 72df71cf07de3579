/// @file plan_state.hpp
/// The subscription's rate-limit state as Anthropic last reported it in the
/// `anthropic-ratelimit-unified-*` response headers
/// (docs/anthropic-notes.md#oauth-rate-limit-headers): status, representative claim, reset time,
/// per-window utilisation, and extra-usage (overage) state.
///
/// Updated from every upstream response that carries those headers; read by `/health`, `/metrics`
/// and the opt-in plan guard. Thread-safe (a mutex; updates are rare and tiny).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/refusal.hpp"
#include "claudegate/net.hpp"

namespace claudegate::metrics {

/// Why the plan guard refuses a request.
struct PlanRefusal {
  anthropic::RefusalKind kind;  ///< The same kinds as Anthropic's own refusals.
  std::string message;          ///< States the limit, the reset time and what to do.
  std::int64_t retry_after;     ///< Seconds until the reset (0 when unknown).
};

class PlanState {
 public:
  /// Absorbs the unified headers of one upstream response; ignores responses without them.
  void Update(const http::fields& headers);

  /// `{"reported":bool,"status","representative_claim","reset","reset_at","overage_in_use",
  /// "overage_status","windows":{"5h":{"utilization","reset"}, ...},"updated_at"}`.
  [[nodiscard]] nlohmann::json ToJson() const;

  /// The refusal when the plan limit is reached (`status: rejected` with a reset in the future:
  /// the 5-hour, weekly or model-scoped window, anthropic::PlanGuardRefusal) or, if
  /// `refuse_overage`, when requests are drawing on paid extra usage.
  [[nodiscard]] std::optional<PlanRefusal> Refusal(std::chrono::system_clock::time_point now,
                                                   bool refuse_overage) const;

  /// Every unified header by suffix (e.g. "status", "5h-utilization"), for metrics.
  [[nodiscard]] std::map<std::string, std::string> Headers() const;

 private:
  mutable std::mutex mutex_;
  anthropic::UnifiedHeaders headers_;  // suffix after "anthropic-ratelimit-unified-"
  std::optional<std::chrono::system_clock::time_point> updated_at_;
};

/// Seconds since the epoch as an ISO-8601 UTC string.
[[nodiscard]] std::string IsoTime(std::int64_t unix_seconds);

}  // namespace claudegate::metrics
