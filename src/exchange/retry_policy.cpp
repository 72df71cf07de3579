#include "claudegate/exchange/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace claudegate::exchange {
namespace {

using std::chrono::milliseconds;

// The share of the backoff the jitter may take off, as in Anthropic's SDKs
// (anthropic-sdk-typescript src/client.ts, calculateDefaultRetryTimeoutMillis).
constexpr double kJitterShare = 0.25;
// Longer than this, a shift by 2^retry is pointless: max_backoff caps it anyway.
constexpr unsigned kMaxShift = 20;

std::optional<double> Number(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !(value >= 0)) {
    return std::nullopt;
  }
  return value;
}

// "2026-12-07T07:00:00Z" (Anthropic's `anthropic-ratelimit-{requests,tokens}-reset`), or Unix
// seconds (`anthropic-ratelimit-unified-*-reset`).
std::optional<std::chrono::system_clock::time_point> ResetTime(std::string_view text) {
  if (auto seconds = Number(text)) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(*seconds)));
  }
  std::tm tm{};
  int offset_h = 0;
  int offset_m = 0;
  char zone = 0;
  const std::string copy(text);
  // Fractional seconds, if any, are dropped: a second too early is the worst that follows.
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  const auto tail = copy.find_first_of("Z+-", 19);
  if (tail != std::string::npos && copy[tail] != 'Z' &&
      std::sscanf(copy.c_str() + tail, "%c%2d:%2d", &zone, &offset_h, &offset_m) == 3) {
    const int sign = zone == '-' ? -1 : 1;
    tm.tm_hour -= sign * offset_h;
    tm.tm_min -= sign * offset_m;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  if (t < 0) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

std::string_view FailureLabel(FailureKind kind) {
  switch (kind) {
    case FailureKind::kOverloaded:
      return "overloaded";
    case FailureKind::kServerError:
      return "server_error";
    case FailureKind::kConnection:
      return "connection";
    case FailureKind::kTls:
      return "tls";
    case FailureKind::kConnectTimeout:
      return "connect_timeout";
    case FailureKind::kFirstByteTimeout:
      return "first_byte_timeout";
    case FailureKind::kRateLimited:
      return "rate_limited";
    case FailureKind::kStreamError:
      return "stream_error_event";
    case FailureKind::kPlanRefusal:
      return "plan_refusal";
    case FailureKind::kPromptTooLong:
      return "prompt_too_long";
    case FailureKind::kNotRetryable:
      return "not_retryable";
  }
  return "not_retryable";
}

std::string_view GiveUpLabel(GiveUp why) {
  switch (why) {
    case GiveUp::kNone:
      return "none";
    case GiveUp::kNotRetryable:
      return "not_retryable";
    case GiveUp::kAttempts:
      return "attempts";
    case GiveUp::kBudget:
      return "budget";
    case GiveUp::kNoHint:
      return "no_hint";
  }
  return "none";
}

RetryHints HintsFrom(const http::fields& headers, std::chrono::system_clock::time_point now) {
  RetryHints hints;
  // Anthropic's SDKs read retry-after-ms first, then retry-after
  // (anthropic-sdk-typescript src/client.ts, retryRequest).
  if (auto ms = Number(headers["retry-after-ms"])) {
    hints.retry_after = milliseconds(static_cast<milliseconds::rep>(*ms));
    return hints;
  }
  if (auto seconds = Number(headers["retry-after"])) {
    hints.retry_after = milliseconds(static_cast<milliseconds::rep>(*seconds * 1000.0));
    return hints;
  }
  // The latest reset: retrying before the limit that was hit resets only fails again.
  std::optional<std::chrono::system_clock::time_point> latest;
  for (const auto& field : headers) {
    const std::string_view name = field.name_string();
    if (name.size() <= 26 || !beast::iequals(name.substr(0, 20), "anthropic-ratelimit-") ||
        !beast::iequals(name.substr(name.size() - 6), "-reset")) {
      continue;
    }
    if (auto reset = ResetTime(field.value()); reset && (!latest || *reset > *latest)) {
      latest = reset;
    }
  }
  if (latest && *latest > now) {
    hints.retry_after = std::chrono::ceil<milliseconds>(*latest - now);
  }
  return hints;
}

RetryDecision DecideRetry(const config::Retries& settings, FailureKind kind, unsigned retries_done,
                          milliseconds elapsed, const RetryHints& hints, double jitter) {
  RetryDecision decision;
  switch (kind) {
    case FailureKind::kOverloaded:
    case FailureKind::kServerError:
    case FailureKind::kConnection:
    case FailureKind::kTls:
    case FailureKind::kConnectTimeout:
    case FailureKind::kRateLimited:
    case FailureKind::kStreamError:
      break;
    case FailureKind::kFirstByteTimeout:  // the request may be running: a retry could bill twice
    case FailureKind::kPlanRefusal:       // waiting does not change the plan: a fallback may
    case FailureKind::kPromptTooLong:
    case FailureKind::kNotRetryable:
      decision.give_up = GiveUp::kNotRetryable;
      return decision;
  }
  if (retries_done >= settings.num_retries) {
    decision.give_up = GiveUp::kAttempts;
    return decision;
  }
  if (kind == FailureKind::kRateLimited && !hints.retry_after) {
    decision.give_up = GiveUp::kNoHint;
    return decision;
  }
  milliseconds delay{0};
  if (hints.retry_after) {
    delay = *hints.retry_after;
  } else {
    const milliseconds doubled =
        settings.initial_backoff * (milliseconds::rep{1} << std::min(retries_done, kMaxShift));
    const auto backoff = std::min(doubled, settings.max_backoff);
    const double kept = 1.0 - kJitterShare * std::clamp(jitter, 0.0, 1.0);
    delay =
        milliseconds(static_cast<milliseconds::rep>(static_cast<double>(backoff.count()) * kept));
  }
  delay = std::max(delay, settings.min_delay);
  if (elapsed + delay > settings.budget) {
    decision.give_up = GiveUp::kBudget;
    return decision;
  }
  decision.delay = delay;
  return decision;
}

}  // namespace claudegate::exchange
