/// @file upstream_error.hpp
/// Maps an Anthropic error (an HTTP error response, or an `error` event inside a stream) to the
/// OpenAI error shape and status that claudegate returns on the OpenAI route
/// (docs/anthropic-notes.md#error-mapping).
///
/// Pure and thread-safe.
///
/// @par Headers the caller should keep (not done here)
/// Copy `retry-after` (and `retry-after-ms` when derived), copy upstream `request-id` to
/// `x-request-id` (openai-node reads that name), optionally the `anthropic-ratelimit-*` headers.
/// Add `x-should-retry: false` when `should_retry_false` is set. Never forward `set-cookie`,
/// hop-by-hop headers, `x-api-key`/`authorization`, or `anthropic-organization-id`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/refusal.hpp"

namespace claudegate::translate {

/// The OpenAI-route reply for one upstream error.
struct UpstreamError {
  unsigned status = 502;    ///< HTTP status to send downstream (e.g. 529 → 503, 401 → 502).
  std::string type;         ///< OpenAI `error.type`.
  std::string code;         ///< OpenAI `error.code`; empty renders as null.
  std::string message;      ///< Upstream message, passed through unchanged when present.
  std::string openai_body;  ///< `{"error":{"message","type","param":null,"code"}}`.
  /// True when a retry cannot help (our credential rejected, billing, a long rate-limit window):
  /// the caller sends `x-should-retry: false` so the OpenAI SDKs do not retry or sleep.
  bool should_retry_false = false;
};

/// Maps an upstream HTTP error response. `body` may be Anthropic's JSON error, other JSON, or not
/// JSON at all (a proxy's HTML page); non-JSON bodies get a message naming the status.
/// `retry_after_seconds` is the parsed `retry-after` header, when present: above 60 s the reply is
/// marked `should_retry_false` (docs/anthropic-notes.md#long-retry-after).
[[nodiscard]] UpstreamError MapUpstreamError(
    unsigned status, std::string_view body,
    std::optional<unsigned> retry_after_seconds = std::nullopt);

/// Rewrites `error` for a named refusal (anthropic/refusal.hpp; docs/anthropic-notes.md#refusals):
/// the refusal's message followed by Anthropic's own words, a `code` per kind
/// (`plan_limit_reached`, `model_limit_reached`, `extra_usage_required`, `extra_usage_exhausted`,
/// `third_party_extra_usage`, `model_not_in_plan`, `rate_limit_exceeded`), the status that fits
/// (429 for limits, 402 where only money helps, 403 for a model outside the plan) and
/// `should_retry_false` when the refusal says a retry cannot help. kNone and kOverloaded (already
/// 503 with code `overloaded` and Anthropic's "Overloaded") leave `error` alone.
void NameRefusal(UpstreamError& error, const anthropic::Refusal& refusal);

/// Maps an Anthropic `error` object from a stream's `error` event (which carries no HTTP status):
/// the status is derived from `error.type` (`overloaded_error` → 503, …), and a refusal that the
/// event alone tells apart (overload, extra usage, a rate limit) is named as by `NameRefusal`.
/// `error_type` and `message` are the event's `error.type` and `error.message`.
[[nodiscard]] UpstreamError MapStreamError(std::string_view error_type, std::string_view message);

/// The message of the stream error the consumers raise when the data of a Messages stream event
/// is not valid JSON (anthropic::EventReader's malformed-event rule): the answer would silently
/// lose content otherwise.
inline constexpr std::string_view kMalformedEventMessage =
    "Anthropic sent a stream event whose data is not valid JSON; the answer would be incomplete.";

}  // namespace claudegate::translate
