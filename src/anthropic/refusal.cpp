#include "claudegate/anthropic/refusal.hpp"

#include <array>
#include <cctype>
#include <ctime>
#include <utility>

#include <nlohmann/json.hpp>

#include "plan_windows.hpp"

namespace claudegate::anthropic {
namespace {

constexpr std::string_view kUnifiedPrefix = "anthropic-ratelimit-unified-";

std::string Lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool Contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

std::int64_t UnixSeconds(std::chrono::system_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

Refusal Named(RefusalKind kind, std::string message, bool retry_useless) {
  return Refusal{kind, {}, std::nullopt, std::move(message), retry_useless};
}

// Extra usage and plan-model refusals, told by Anthropic's wording (reported by third parties;
// docs/anthropic-notes.md#refusals): short substrings, lower-cased, so small rewordings still
// match.
std::optional<Refusal> ByWording(std::string_view message) {
  const std::string text = Lower(message);
  const std::string settings(kUsageSettings);
  const bool extra_usage = Contains(text, "extra usage") || Contains(text, "usage credits");
  if (extra_usage && Contains(text, "third-party")) {
    return Named(
        RefusalKind::kThirdPartyExtraUsage,
        "Anthropic bills requests from third-party apps (such as this gateway) to the "
        "account's extra usage, not to the plan's limits, and none is available. Add extra "
        "usage at " +
            settings + ", or use an Anthropic API key.",
        true);
  }
  if (Contains(text, "out of extra usage") || Contains(text, "out of usage credits")) {
    return Named(RefusalKind::kOutOfExtraUsage,
                 "Your Claude account's extra usage is used up. Add more at " + settings +
                     ", or wait for the plan's limits to reset.",
                 true);
  }
  if (extra_usage && Contains(text, "fast mode")) {
    return Named(
        RefusalKind::kFastModeExtraUsage,
        "Fast mode is billed to extra usage, which this Claude account has not enabled or "
        "has used up. Turn fast mode off (no \"speed\":\"fast\"), or enable extra usage at " +
            settings + ".",
        true);
  }
  if (extra_usage && (Contains(text, "long context") || Contains(text, "1m context"))) {
    return Named(RefusalKind::kLongContextExtraUsage,
                 "Long-context (1M-token) requests need extra usage on this Claude plan. Enable it "
                 "at " +
                     settings +
                     ", or send less context: drop the context-1m beta or lower the "
                     "client's maximum context.",
                 true);
  }
  if (extra_usage && Contains(text, "require")) {
    return Named(
        RefusalKind::kExtraUsageRequired,
        "Anthropic requires extra usage for this request on this Claude plan. Enable it at " +
            settings + ", or change the request (model, context size, fast mode).",
        true);
  }
  if (Contains(text, "invalid model name")) {
    return Named(RefusalKind::kModelNotInPlan,
                 "This Claude plan does not include the requested model (Claude Pro has no Opus). "
                 "Use another model, e.g. sonnet.",
                 true);
  }
  return std::nullopt;
}

}  // namespace

std::string_view Label(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::kNone:
      return "";
    case RefusalKind::kFiveHourLimit:
      return "five_hour_limit";
    case RefusalKind::kWeeklyLimit:
      return "weekly_limit";
    case RefusalKind::kModelLimit:
      return "model_limit";
    case RefusalKind::kPlanLimit:
      return "plan_limit";
    case RefusalKind::kLongContextExtraUsage:
      return "long_context_extra_usage";
    case RefusalKind::kFastModeExtraUsage:
      return "fast_mode_extra_usage";
    case RefusalKind::kExtraUsageRequired:
      return "extra_usage_required";
    case RefusalKind::kThirdPartyExtraUsage:
      return "third_party_extra_usage";
    case RefusalKind::kOutOfExtraUsage:
      return "out_of_extra_usage";
    case RefusalKind::kOverageInUse:
      return "overage_in_use";
    case RefusalKind::kModelNotInPlan:
      return "model_not_in_plan";
    case RefusalKind::kRateLimit:
      return "rate_limit";
    case RefusalKind::kOverloaded:
      return "overloaded";
  }
  return "";
}

UnifiedHeaders ReadUnifiedHeaders(const http::fields& fields) {
  UnifiedHeaders found;
  for (const auto& field : fields) {
    const std::string_view name = field.name_string();
    if (name.size() > kUnifiedPrefix.size() &&
        beast::iequals(name.substr(0, kUnifiedPrefix.size()), kUnifiedPrefix)) {
      found.emplace(Lower(name.substr(kUnifiedPrefix.size())), std::string(field.value()));
    }
  }
  return found;
}

ErrorFields ReadErrorFields(std::string_view body) {
  ErrorFields out;
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("error") || !json["error"].is_object()) {
    return out;
  }
  const auto& error = json["error"];
  if (const auto type = error.find("type"); type != error.end() && type->is_string()) {
    out.type = type->get<std::string>();
  }
  if (const auto message = error.find("message"); message != error.end() && message->is_string()) {
    out.message = message->get<std::string>();
  }
  return out;
}

std::optional<std::int64_t> Refusal::SecondsUntilReset(
    std::chrono::system_clock::time_point now) const {
  const auto now_s = UnixSeconds(now);
  if (!reset || *reset <= now_s) {
    return std::nullopt;
  }
  return *reset - now_s;
}

Refusal ClassifyRefusal(const UpstreamAnswer& answer, std::chrono::system_clock::time_point now) {
  if (answer.status == 529 || answer.error_type == "overloaded_error") {
    return Named(RefusalKind::kOverloaded,
                 "Anthropic is overloaded (its capacity, not your usage limit). Retry in a moment, "
                 "or switch to another model.",
                 false);
  }
  if (auto named = ByWording(answer.message)) {
    return std::move(*named);
  }
  if (answer.status != 429 && answer.error_type != "rate_limit_error") {
    return {};
  }
  if (answer.unified != nullptr && Get(*answer.unified, "status") == "rejected") {
    Refusal out = WindowRefusal(*answer.unified);
    // A reset already behind us (a stale report) means a retry may well succeed.
    out.retry_useless = !out.reset || out.SecondsUntilReset(now).has_value();
    return out;
  }
  return Named(RefusalKind::kRateLimit,
               "Anthropic is limiting the request rate for a short time; no plan window was "
               "reported used up. Retry after a short wait, or send fewer requests at once.",
               false);
}

Refusal ClassifyHttpAnswer(unsigned status, const http::fields& headers, std::string_view body,
                           std::chrono::system_clock::time_point now) {
  const UnifiedHeaders unified = ReadUnifiedHeaders(headers);
  const ErrorFields fields = ReadErrorFields(body);
  return ClassifyRefusal(UpstreamAnswer{status, &unified, fields.type, fields.message}, now);
}

std::optional<Refusal> PlanGuardRefusal(const UnifiedHeaders& unified,
                                        std::chrono::system_clock::time_point now,
                                        bool refuse_overage) {
  const auto now_s = UnixSeconds(now);
  const auto reset = Seconds(unified, "reset");
  if (Get(unified, "status") == "rejected" && reset && *reset > now_s) {
    return WindowRefusal(unified);
  }
  if (!refuse_overage || Get(unified, "overage-in-use") != "true") {
    return std::nullopt;
  }
  Refusal out{RefusalKind::kOverageInUse,
              std::string(Get(unified, "representative-claim")),
              reset && *reset > now_s ? reset : Seconds(unified, "overage-reset"),
              {},
              true};
  out.message = "Requests are drawing on paid extra usage (overage) because the plan's limit" +
                (out.claim.empty() ? std::string() : " (" + out.claim + ")") + " is used up" +
                (out.reset ? "; the plan resets at " + IsoTime(*out.reset) : std::string()) + ".";
  return out;
}

std::string IsoTime(std::int64_t unix_seconds) {
  const std::time_t time = unix_seconds;
  std::tm tm{};
  ::gmtime_r(&time, &tm);
  std::array<char, 32> buffer{};
  const auto n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer.data(), n);
}

}  // namespace claudegate::anthropic
