/// @file chat_response.hpp
/// Non-streaming response translation: an Anthropic `Message` JSON → an OpenAI `chat.completion`
/// (docs/anthropic-notes.md#response-fields).
///
/// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/response/response_common.hpp"

namespace claudegate::translate {

/// A translated non-streaming reply plus the facts the caller logs and meters.
struct OpenAiResponse {
  nlohmann::json body;      ///< The `chat.completion` object.
  Usage usage;              ///< Upstream token counts.
  std::string stop_reason;  ///< Upstream `stop_reason` ("" when null).
};

/// Translates `message` (an Anthropic `Message`, e.g. from `/v1/messages` or `MessageAccumulator`).
///
/// - `id` is `chatcmpl-<msg id>`; `model` and `created` are echoed as given (the caller decides
///   between the client's requested name and the upstream id).
/// - Text blocks are joined into `message.content` (`null` when there is none); `tool_use` blocks
///   become `tool_calls` with `arguments` as a JSON string (a `tool_use` block carrying a string
///   `partial_json` — set by `MessageAccumulator` when the streamed arguments did not parse — uses
///   that string verbatim); thinking goes to `reasoning_content`, never into `content`, and
///   thinking/redacted_thinking blocks are also returned as LiteLLM-style `thinking_blocks` so
///   clients can send them back. Unknown and server-tool blocks are ignored.
/// - `finish_reason` per docs/anthropic-notes.md#finish-reason; `refusal` is
///   `stop_details.explanation` on a refusal stop.
///
/// @par Errors
/// `ErrorKind::kUpstreamUnreachable` (502) when `message` is not an object with a `content` array.
[[nodiscard]] Result<OpenAiResponse> ToOpenAi(const nlohmann::json& message, std::string_view model,
                                              std::int64_t created);

/// Text used for `refusal` when a refusal stop carries no explanation.
inline constexpr std::string_view kGenericRefusal =
    "The model declined to respond to this request.";

}  // namespace claudegate::translate
