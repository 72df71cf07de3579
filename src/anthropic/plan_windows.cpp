#include "plan_windows.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <utility>

namespace claudegate::anthropic {
namespace {

double Utilization(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() ? value : 0.0;
}

// A claim or window name is a span plus an optional scope: `five_hour`/`5h` and `seven_day`/`7d`
// are the plan-wide windows, `seven_day_opus`/`7d_opus` the same span for one model family
// (docs/anthropic-notes.md#refusals). Unknown spans stay unknown rather than guessed.
enum class Span { kUnknown, kFiveHour, kWeekly };
struct Scope {
  Span span = Span::kUnknown;
  std::string model;  // "" for a plan-wide window
};

Scope ParseClaim(std::string_view claim) {
  constexpr std::array<std::pair<std::string_view, Span>, 4> kBases{{
      {"five_hour", Span::kFiveHour},
      {"5h", Span::kFiveHour},
      {"seven_day", Span::kWeekly},
      {"7d", Span::kWeekly},
  }};
  for (const auto& [base, span] : kBases) {
    if (claim == base) {
      return {span, {}};
    }
    if (claim.starts_with(base) && claim.size() > base.size() + 1 && claim[base.size()] == '_') {
      return {span, std::string(claim.substr(base.size() + 1))};
    }
  }
  return {};
}

// The model family a scoped claim names, for people. The CLI labels `seven_day_overage_included`
// (window `7d_oi`) as its Fable limit; every other scope is shown from its own name.
std::string ModelName(std::string_view scope) {
  if (scope == "overage_included" || scope == "oi") {
    return "Fable";
  }
  std::string out(scope);
  for (auto& c : out) {
    c = c == '_' ? ' ' : c;
  }
  if (!out.empty()) {
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  }
  return out;
}

// The header window of a claim: `seven_day_opus` → `7d_opus`; a scope of several words also by
// its initials (`seven_day_overage_included` → `7d_oi`), as the CLI's header names abbreviate.
std::optional<std::int64_t> WindowReset(const UnifiedHeaders& unified, std::string_view claim) {
  const Scope scope = ParseClaim(claim);
  if (scope.span == Span::kUnknown) {
    return Seconds(unified, std::string(claim) + "-reset");
  }
  const std::string base = scope.span == Span::kFiveHour ? "5h" : "7d";
  std::string initials;
  for (std::size_t i = 0; i < scope.model.size(); ++i) {
    if (i == 0 || scope.model[i - 1] == '_') {
      initials += scope.model[i];
    }
  }
  for (const std::string& suffix : {scope.model, initials}) {
    const std::string window = suffix.empty() ? base : base + "_" + suffix;
    if (auto reset = Seconds(unified, window + "-reset")) {
      return reset;
    }
    if (scope.model.empty()) {
      break;
    }
  }
  return std::nullopt;
}

struct Binding {
  std::string claim;
  std::optional<std::int64_t> reset;
};

// Which window refused. The representative claim names it; without one, a window whose own
// `-status` is `rejected`, else one at utilisation ≥ 1. Windows are AND-composed, so among several
// the latest reset is the one that lifts the refusal. `overage` is extra usage, not a plan window.
Binding FindBinding(const UnifiedHeaders& unified) {
  Binding binding{std::string(Get(unified, "representative-claim")), Seconds(unified, "reset")};
  if (!binding.claim.empty()) {
    if (!binding.reset) {
      binding.reset = WindowReset(unified, binding.claim);
    }
    return binding;
  }
  for (const std::string_view suffix : {"-status", "-utilization"}) {
    for (const auto& [key, value] : unified) {
      if (!key.ends_with(suffix) || key.size() == suffix.size()) {
        continue;
      }
      const std::string window = key.substr(0, key.size() - suffix.size());
      const bool refused = suffix == "-status" ? value == "rejected" : Utilization(value) >= 1.0;
      if (window == "overage" || !refused) {
        continue;
      }
      const auto reset = Seconds(unified, window + "-reset");
      if (binding.claim.empty() || reset.value_or(0) > binding.reset.value_or(0)) {
        binding = Binding{window, reset ? reset : binding.reset};
      }
    }
    if (!binding.claim.empty()) {
      return binding;
    }
  }
  return binding;
}

std::string ResetText(const std::optional<std::int64_t>& reset) {
  return reset ? "; it resets at " + IsoTime(*reset) : std::string();
}

std::string Lowered(std::string text) {
  text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

std::string_view Get(const UnifiedHeaders& unified, std::string_view key) {
  const auto it = unified.find(key);
  return it == unified.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<std::int64_t> Seconds(const UnifiedHeaders& unified, std::string_view key) {
  const auto text = Get(unified, key);
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value);
}

Refusal WindowRefusal(const UnifiedHeaders& unified) {
  const Binding binding = FindBinding(unified);
  Refusal out{RefusalKind::kPlanLimit, binding.claim, binding.reset, {}, true};
  const std::string named = binding.claim.empty() ? std::string() : " (" + binding.claim + ")";
  std::string extra_usage = ", or turn on extra usage at " + std::string(kUsageSettings);
  if (const auto reason = Get(unified, "overage-disabled-reason"); !reason.empty()) {
    extra_usage += " (Anthropic reports it unavailable: " + std::string(reason) + ")";
  }
  if (binding.claim == "overage") {
    out.kind = RefusalKind::kOutOfExtraUsage;
    out.reset = out.reset ? out.reset : Seconds(unified, "overage-reset");
    out.message = "Your Claude account's extra usage is used up" + ResetText(out.reset) +
                  ". Add more at " + std::string(kUsageSettings) + ", or wait for the reset.";
    return out;
  }
  const std::string wait = out.reset
                               ? "Wait until then"
                               : "Wait for the reset (see " + std::string(kUsageSettings) + ")";
  const Scope scope = ParseClaim(binding.claim);
  const std::string span = scope.span == Span::kFiveHour ? "5-hour" : "weekly";
  if (scope.span == Span::kUnknown) {
    out.message = "Your Claude plan's usage limit" + named + " is used up" + ResetText(out.reset) +
                  ". " + wait + extra_usage + ".";
  } else if (!scope.model.empty()) {
    out.kind = RefusalKind::kModelLimit;
    out.message = "Your Claude plan's " + span + " limit for " + ModelName(scope.model) +
                  " models" + named + " is used up" + ResetText(out.reset) +
                  ". Switch to another model, or " + Lowered(wait) + ".";
  } else {
    out.kind =
        scope.span == Span::kFiveHour ? RefusalKind::kFiveHourLimit : RefusalKind::kWeeklyLimit;
    out.message = "Your Claude plan's " + span + " usage limit" + named + " is used up" +
                  ResetText(out.reset) + ". " + wait + extra_usage + ".";
  }
  return out;
}

}  // namespace claudegate::anthropic
