/// @file response_common.hpp
/// Pieces shared by the non-streaming (`chat_response`) and streaming (`stream_translator`)
/// response paths: token usage, `finish_reason`, and appending JSON strings to output buffers.
///
/// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/json/writer.hpp"

namespace claudegate::translate {

/// Anthropic token counts for one message (docs/anthropic-notes.md#usage). A `null` upstream count
/// is 0.
struct Usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_read_input_tokens = 0;
  std::int64_t cache_creation_input_tokens = 0;
  std::optional<std::int64_t> thinking_tokens;  ///< `output_tokens_details.thinking_tokens`.

  /// OpenAI `prompt_tokens`: input plus cache reads plus cache writes.
  [[nodiscard]] std::int64_t prompt_tokens() const {
    return input_tokens + cache_read_input_tokens + cache_creation_input_tokens;
  }
};

/// Overwrites the counts present (and non-null) in an Anthropic `usage` object; leaves the others.
/// This is the SDK's rule for the cumulative `message_delta` usage
/// (docs/anthropic-notes.md#stream-grammar, docs/anthropic-notes.md#null-usage-counts).
void UpdateUsage(Usage& usage, const nlohmann::json& anthropic_usage);

/// The OpenAI `usage` object (docs/anthropic-notes.md#usage), including LiteLLM's extra top-level
/// `cache_read_input_tokens` / `cache_creation_input_tokens`.
[[nodiscard]] nlohmann::json OpenAiUsage(const Usage& usage);

/// Appends the same object as `OpenAiUsage` as compact JSON, without building a DOM.
void AppendOpenAiUsage(std::string& out, const Usage& usage);

/// OpenAI `finish_reason` for an Anthropic `stop_reason` (docs/anthropic-notes.md#finish-reason).
/// `tool_use` maps to `tool_calls` only when `has_tool_calls`; unknown and empty values map to
/// `stop`.
[[nodiscard]] std::string_view FinishReason(std::string_view stop_reason, bool has_tool_calls);

/// Moved to the leaf claudegate/json/writer.hpp; kept here for the translators that use it.
using ::claudegate::json::AppendJsonString;  // qualified: a unity batch may alias `json`

/// Prefixes an Anthropic message id (`msg_…`) with `chatcmpl-`
/// (docs/anthropic-notes.md#response-fields).
[[nodiscard]] std::string ChatCompletionId(std::string_view message_id);

}  // namespace claudegate::translate
