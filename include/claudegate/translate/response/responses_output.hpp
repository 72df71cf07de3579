/// @file responses_output.hpp
/// The Response object of OpenAI's Responses API, built from Anthropic output (non-streaming),
/// and the pieces the streaming translator (`responses_stream.hpp`) shares with it so that a
/// streamed response's final `response.completed` snapshot and the non-streamed body agree:
/// ids, output items, usage and status.
///
/// Mapping (Anthropic content block → Response output item, in block order):
/// - `text` → a `message` item with one `output_text` part (`annotations:[]`, `logprobs:[]`);
/// - `thinking` → a `reasoning` item: the thinking text as one `summary_text` (none when the
///   thinking is empty, e.g. with display `omitted`), the signature as `encrypted_content`;
/// - `redacted_thinking` → a `reasoning` item with no summary and `encrypted_content` =
///   `kRedactedThinkingPrefix` + data. Both forms round-trip: sent back as input items they
///   become the original thinking blocks again;
/// - `tool_use` → a `function_call` item: `call_id` is the Anthropic tool id, `id` is `fc_` + it,
///   `arguments` the JSON input as a string;
/// - `tool_use` of a custom or namespaced tool (tool_name_map.hpp, built from `echo.tools`): a
///   `custom_tool_call` item (`id` `ctc_` + tool id, `input` the string) or a `function_call`
///   with the client's `name` and its `namespace`;
/// - web search blocks and citations: see web_search_output.hpp; other server-tool and unknown
///   blocks are skipped.
/// Item ids are `msg_<base>_<output index>` and `rs_<base>_<output index>`, and the response id is
/// `resp_<base>`, where `<base>` is `ResponseMeta::id_base` (ResponseIdBase).
///
/// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/response/response_common.hpp"
#include "claudegate/translate/tool_name_map.hpp"

namespace claudegate::translate {

/// Marks `encrypted_content` that carries a `redacted_thinking` block's data.
inline constexpr std::string_view kRedactedThinkingPrefix = "redacted_thinking:";

/// What every Response object of one request shares.
struct ResponseMeta {
  std::string model;            ///< Echoed `model` (the client's requested name).
  std::int64_t created_at = 0;  ///< Unix seconds.
  nlohmann::json echo;          ///< `ResponsesRequest::echo`; null is treated as `{}`.
  /// The base of the Response's id and its output items' ids. The route gives each Response a
  /// time-ordered one of its own (routes::TimeOrderedIdBase), so that the ids a store indexes are
  /// appended to its indexes, not inserted at random places (docs/performance.md, "Stored
  /// responses"). Empty: the upstream message id without its `msg_` prefix.
  std::string id_base;
};

/// `meta.id_base`, or when it is empty the upstream message id (`msg_<base>`) without `msg_`.
[[nodiscard]] std::string ResponseIdBase(const ResponseMeta& meta, std::string_view message_id);
/// `resp_<base>`.
[[nodiscard]] std::string ResponseId(std::string_view base);
/// `<prefix>_<base>_<output_index>`, e.g. `msg_01abc_0`, for message and reasoning items.
[[nodiscard]] std::string OutputItemId(std::string_view prefix, std::string_view base,
                                       std::size_t output_index);

/// The Responses `usage` object: `input_tokens` (including cache reads and writes, as chat's
/// `prompt_tokens`), `input_tokens_details.cached_tokens`, `output_tokens`,
/// `output_tokens_details.reasoning_tokens` (0 when upstream reports none), `total_tokens`.
[[nodiscard]] nlohmann::json ResponseUsage(const Usage& usage);

/// Response `status` and `incomplete_details` for an Anthropic `stop_reason`: `max_tokens` and
/// `model_context_window_exceeded` → `incomplete` / `max_output_tokens`; `refusal` →
/// `incomplete` / `content_filter`; everything else → `completed` with null details.
struct ResponseStatus {
  std::string_view status;
  nlohmann::json incomplete_details;
};
[[nodiscard]] ResponseStatus StatusForStopReason(std::string_view stop_reason);

/// A Response object with `output:[]`, `usage:null`, `error:null`, `store:false` and the echoed
/// request fields, ready for the caller to fill in.
[[nodiscard]] nlohmann::json ResponseSkeleton(const ResponseMeta& meta, std::string_view id,
                                              std::string_view status);

/// The `output_text` content part.
[[nodiscard]] nlohmann::json OutputTextPart(std::string_view text);
/// A `message` output item; `text` is null for the in-progress form (no content yet).
[[nodiscard]] nlohmann::json MessageItem(std::string_view id, const std::string* text,
                                         std::string_view status);
/// A `function_call` output item.
[[nodiscard]] nlohmann::json FunctionCallItem(std::string_view call_id, std::string_view name,
                                              std::string_view arguments, std::string_view status);
/// The output item for a Claude `tool_use` named `claude_name`: a `function_call` (unknown names
/// unchanged) or a `custom_tool_call`, with `namespace` when the tool came from one.
[[nodiscard]] nlohmann::json ToolCallItem(std::string_view call_id, std::string_view claude_name,
                                          std::string_view arguments, std::string_view status,
                                          const ToolNameMap& names);
/// A custom tool's string input from the JSON arguments Claude wrote (`{"input": "…"}`); the
/// whole text when it is not that shape.
[[nodiscard]] std::string CustomToolInput(std::string_view arguments);
/// A `reasoning` output item; `summary` is omitted from the summary list when null or empty,
/// `encrypted_content` is omitted when empty.
[[nodiscard]] nlohmann::json ReasoningItem(std::string_view id, const std::string* summary,
                                           std::string_view encrypted_content);

/// Translates `message` (an Anthropic `Message`, e.g. from `MessageAccumulator`) into a
/// completed (or incomplete) Response object.
///
/// @par Errors
/// `ErrorKind::kUpstreamUnreachable` (502) when `message` is not an object with a `content` array.
[[nodiscard]] Result<nlohmann::json> ToResponse(const nlohmann::json& message,
                                                const ResponseMeta& meta);

}  // namespace claudegate::translate
