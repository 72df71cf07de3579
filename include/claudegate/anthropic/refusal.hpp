/// @file refusal.hpp
/// Names why Anthropic refused a request, from what its answer carries: the HTTP status, the
/// `anthropic-ratelimit-unified-*` headers of a subscription (OAuth) account and the error body's
/// `error.type` and `error.message` (docs/anthropic-notes.md#refusals). The same kinds and messages
/// serve the OpenAI routes' error mapping, the `x-claudegate-refusal` header on every route, the
/// metrics and the plan guard, so a user sees one name for one cause wherever it surfaces.
///
/// Plan windows are read generically: every unified claim (`five_hour`, `seven_day`,
/// `seven_day_opus`, a per-model claim Anthropic adds later) is named from its own name, never
/// from a list of known claims. Error wording is matched on short, robust substrings, because
/// Anthropic does not document these messages (the wording in the tests is what third parties
/// reported).
///
/// Pure and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "claudegate/net.hpp"

namespace claudegate::anthropic {

/// What Anthropic refused, one value per thing the user can do about it.
enum class RefusalKind {
  kNone,                   ///< Not a refusal this module names (any other error, or success).
  kFiveHourLimit,          ///< The plan's 5-hour (session) window is used up: wait for its reset.
  kWeeklyLimit,            ///< The plan's weekly window is used up: wait for its reset.
  kModelLimit,             ///< A model-scoped window (`seven_day_opus`, ...): switch model or wait.
  kPlanLimit,              ///< A plan window is used up but none could be told apart.
  kLongContextExtraUsage,  ///< Long-context (1M) requests need extra usage on this plan.
  kFastModeExtraUsage,     ///< Fast mode is billed to extra usage, which is off or used up.
  kExtraUsageRequired,     ///< "Extra usage is required" for some other feature.
  kThirdPartyExtraUsage,   ///< Third-party traffic is billed to extra usage, and none is left.
  kOutOfExtraUsage,        ///< The account's extra usage (the `overage` claim) is used up.
  kOverageInUse,           ///< Plan guard only: requests are drawing on paid extra usage.
  kModelNotInPlan,         ///< The plan does not include the model (Pro + Opus: "invalid model").
  kRateLimit,              ///< A 429 without a rejected plan window: a short-term rate limit.
  kOverloaded,             ///< 529 / `overloaded_error`: Anthropic's capacity, not the user's.
};

/// The metrics and header label of a kind (`five_hour_limit`, `model_limit`, ...); "" for kNone.
/// Stable: dashboards and log queries match on it.
[[nodiscard]] std::string_view Label(RefusalKind kind);

/// The response header that names the kind on every route (the body stays the route's own).
inline constexpr std::string_view kRefusalHeader = "x-claudegate-refusal";

/// Every `anthropic-ratelimit-unified-<suffix>` header of one answer, by lower-case suffix
/// (`status`, `representative-claim`, `7d_opus-utilization`, ...). `std::less<>` allows lookups by
/// string_view.
using UnifiedHeaders = std::map<std::string, std::string, std::less<>>;

/// Collects the unified headers of `fields`; empty for an answer without them (API keys).
[[nodiscard]] UnifiedHeaders ReadUnifiedHeaders(const http::fields& fields);

/// `error.type` and `error.message` of an Anthropic error body; empty when absent or not JSON.
struct ErrorFields {
  std::string type;
  std::string message;
};
[[nodiscard]] ErrorFields ReadErrorFields(std::string_view body);

/// What Anthropic answered, as far as the classifier needs it.
struct UpstreamAnswer {
  unsigned status = 0;                      ///< HTTP status; 0 for a stream's `error` event.
  const UnifiedHeaders* unified = nullptr;  ///< nullptr when none are known (stream events).
  std::string_view error_type;              ///< `error.type`, e.g. `rate_limit_error`.
  std::string_view message;                 ///< `error.message`, as Anthropic wrote it.
};

/// A named refusal.
struct Refusal {
  RefusalKind kind = RefusalKind::kNone;
  std::string claim;                  ///< The unified claim that binds (`seven_day_opus`), if any.
  std::optional<std::int64_t> reset;  ///< When it lifts, unix seconds, when known.
  /// What happened and what the user can do, in one or two sentences (no Anthropic wording).
  std::string message;
  /// Retrying before `reset` (or at all, for billing and plan kinds) cannot help: clients should
  /// be told `x-should-retry: false`.
  bool retry_useless = false;

  /// Whole seconds from `now` until `reset` (at least 1), when the reset is known and ahead.
  [[nodiscard]] std::optional<std::int64_t> SecondsUntilReset(
      std::chrono::system_clock::time_point now) const;
};

/// Names the refusal in `answer` at time `now` (which only dates the message's "resets at").
/// Overloaded, extra-usage and plan-model answers are told by status, type and message; a 429 (or
/// `rate_limit_error`) by the unified headers: `status: rejected` names the binding window (the
/// representative claim, else a window whose own `-status` is `rejected`, else one whose
/// utilisation reached 1, the latest reset winning), otherwise it is a plain rate limit.
[[nodiscard]] Refusal ClassifyRefusal(const UpstreamAnswer& answer,
                                      std::chrono::system_clock::time_point now);

/// `ClassifyRefusal` for a whole HTTP error answer: its status, headers and body.
[[nodiscard]] Refusal ClassifyHttpAnswer(unsigned status, const http::fields& headers,
                                         std::string_view body,
                                         std::chrono::system_clock::time_point now);

/// The plan guard's verdict on the last reported `unified` state: the window kind while the plan
/// is `rejected` with a reset still ahead; with `refuse_overage`, kOverageInUse while requests
/// draw on paid extra usage; else nothing.
[[nodiscard]] std::optional<Refusal> PlanGuardRefusal(const UnifiedHeaders& unified,
                                                      std::chrono::system_clock::time_point now,
                                                      bool refuse_overage);

/// Unix seconds as an ISO-8601 UTC string (`2030-03-17T17:46:40Z`).
[[nodiscard]] std::string IsoTime(std::int64_t unix_seconds);

}  // namespace claudegate::anthropic
