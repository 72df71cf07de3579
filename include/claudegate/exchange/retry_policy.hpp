/// @file retry_policy.hpp
/// Whether a failed upstream attempt is sent again, and after how long: a pure decision over what
/// failed, how many retries were made, the time used and the server's hints. `Exchange::Open`
/// executes it (exchange.hpp); the rules and their reasons are in docs/architecture.md ("The
/// exchange and the pump") and docs/anthropic-notes.md ("Retries").
///
/// Backoff: `initial_backoff` × 2^retry, at most `max_backoff`, less up to 25 % jitter (Anthropic's
/// SDKs use the same shape: 0.5 s doubling to 8 s). A server hint (`retry-after-ms`,
/// `retry-after`, `anthropic-ratelimit-*-reset`) replaces the backoff. No wait is shorter than
/// `min_delay`, and no retry starts after `budget`.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "claudegate/config/retries.hpp"
#include "claudegate/net.hpp"

namespace claudegate::exchange {

/// What went wrong with one upstream attempt.
enum class FailureKind {
  kOverloaded,        ///< 529, or `overloaded_error`.
  kServerError,       ///< 500, 502, 503, 504.
  kConnection,        ///< No connection, or it was refused, reset or closed before an answer.
  kTls,               ///< The TLS handshake failed.
  kConnectTimeout,    ///< Connecting or the TLS handshake took too long (nothing was sent).
  kFirstByteTimeout,  ///< Sent, then no answer in time: it may be running; never retried.
  kRateLimited,       ///< 429 (retried only when its hint fits the budget).
  kStreamError,       ///< A 200 stream whose first event is `overloaded_error` or `api_error`.
  kPlanRefusal,       ///< The plan does not allow this model now (plan_refusal.hpp).
  kPromptTooLong,     ///< 400 "prompt is too long" (context_window_fallbacks).
  kNotRetryable,      ///< Anything else: the client's request, our credential, ...
};

/// Bounded metrics/log label: "overloaded", "server_error", "connection", ...
[[nodiscard]] std::string_view FailureLabel(FailureKind kind);

/// Why no retry follows.
enum class GiveUp {
  kNone,          ///< A retry follows.
  kNotRetryable,  ///< This kind of failure is never retried.
  kAttempts,      ///< `num_retries` retries were made.
  kBudget,        ///< The wait would end after the time budget.
  kNoHint,        ///< A 429 without a hint of when to come back.
};

/// Bounded label: "not_retryable", "attempts", "budget", "no_hint".
[[nodiscard]] std::string_view GiveUpLabel(GiveUp why);

/// When the server says to come back, if it said.
struct RetryHints {
  std::optional<std::chrono::milliseconds> retry_after;
};

/// `retry-after-ms`, else `retry-after` (seconds), else the latest future
/// `anthropic-ratelimit-*-reset` (RFC 3339, or Unix seconds for the unified headers), relative to
/// `now` (the wall clock: the reset headers are absolute times).
[[nodiscard]] RetryHints HintsFrom(const http::fields& headers,
                                   std::chrono::system_clock::time_point now);

/// The outcome of `DecideRetry`.
struct RetryDecision {
  GiveUp give_up = GiveUp::kNone;
  std::chrono::milliseconds delay{0};  ///< The wait before the retry, when there is one.
  [[nodiscard]] bool retry() const { return give_up == GiveUp::kNone; }
};

/// Decides about the attempt after `retries_done` retries that failed with `kind`, `elapsed`
/// after the first attempt started. `jitter` in [0, 1) is the random part (injected, so tests
/// need no randomness).
[[nodiscard]] RetryDecision DecideRetry(const config::Retries& settings, FailureKind kind,
                                        unsigned retries_done, std::chrono::milliseconds elapsed,
                                        const RetryHints& hints, double jitter);

}  // namespace claudegate::exchange
