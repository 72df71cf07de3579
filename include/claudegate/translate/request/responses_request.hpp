/// @file responses_request.hpp
/// Request translation for OpenAI's Responses API (`POST /v1/responses`) → an Anthropic Messages
/// request.
///
/// The Responses request is first rewritten into the equivalent Chat Completions request (the
/// intermediate the chat translator already understands), and that is handed to `ToAnthropic()`,
/// so both routes share one translator core: the same message ordering rules, tool handling,
/// `max_tokens` defaults, thinking, sampling and structured-output logic. Error `param`s that name
/// chat fields (`messages[3].content[0]`, `max_completion_tokens`, …) are mapped back to the
/// Responses names the client sent (`input[2].content[0]`, `max_output_tokens`, …).
///
/// Pure and thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/request/chat_request.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::translate {

/// A Responses request rewritten as a Chat Completions request.
struct ChatEquivalent {
  nlohmann::json chat;  ///< The Chat Completions request body.
  /// Chat parameter path prefix → Responses path prefix, for error messages.
  std::vector<std::pair<std::string, std::string>> renames;
  std::vector<std::string> warnings;  ///< Things dropped while rewriting.
};

/// Rewrites `request` (a parsed Responses body) as a Chat Completions request:
/// - `instructions` → a leading `system` message; `input` (a string, or a list of items) →
///   `messages`: `message` items keep their role, with `input_text`/`output_text` → `text`,
///   `input_image` → `image_url`, `input_file` → `file`, `refusal` kept; `function_call` →
///   an assistant `tool_calls` entry (`call_id` is the id); `function_call_output` → a `tool`
///   message; `reasoning` items that carry `encrypted_content` (as claudegate emits them) →
///   `thinking_blocks` on the next assistant turn, others dropped.
/// - Flat function `tools` → chat's nested form; `custom` tools → functions taking one string
///   `input`; `namespace` tools → one function per inner tool under a flat name
///   (`ToolNameMap`, tool_name_map.hpp); `web_search`/`web_search_preview` → chat's
///   `web_search_options`; `tool_search` dropped; other hosted tools 400
///   (docs/codex.md#tool-types). `custom_tool_call`/`custom_tool_call_output` and namespaced
///   `function_call` items map to the same names; `web_search_call` items replay their
///   `anthropic_blocks` (dropped without them); `tool_choice` likewise; `max_output_tokens` →
///   `max_completion_tokens`; `reasoning.effort` → `reasoning_effort`; `text.format` →
///   `response_format`; `temperature`, `top_p`, `parallel_tool_calls`, `user`,
///   `safety_identifier`, `service_tier`, `stream` pass through.
/// - `store`, `include`, `truncation`, `metadata`, `prompt_cache_key`, `stream_options` and
///   `text.verbosity` are accepted and ignored: the gateway stores nothing (see
///   `ResponsesHandler`), so `store:true` cannot be honoured but harms nobody.
///
/// @par Errors
/// 400 `invalid_request_error` for state the gateway does not keep (`previous_response_id`,
/// `conversation`, `item_reference` items, `background:true`, stored `prompt` templates; code
/// `unsupported_parameter`), malformed fields and unknown input item types; `max_tool_calls` is a
/// 400 unless `drop_params`.
[[nodiscard]] Result<ChatEquivalent> ResponsesToChat(const nlohmann::json& request,
                                                     const TranslateOptions& options);

/// The translated request plus the request fields a Response object echoes back.
struct ResponsesRequest {
  AnthropicRequest anthropic;  ///< What to send upstream (see `ToAnthropic()`).
  /// `instructions`, `max_output_tokens`, `metadata`, `parallel_tool_calls`, `reasoning`,
  /// `temperature`, `text`, `tool_choice`, `tools`, `top_p`, `truncation`, `user`, with the
  /// defaults OpenAI reports when absent. Merged into every Response object.
  nlohmann::json echo;
};

/// `ResponsesToChat()` then `ToAnthropic()`; errors name Responses parameters.
///
/// Never throws: JSON type errors inside become 400s.
///
/// @par Errors
/// Those of `ResponsesToChat()` and `ToAnthropic()` (400 with `param`; 404 `model_not_found`).
[[nodiscard]] Result<ResponsesRequest> ResponsesToAnthropic(const nlohmann::json& request,
                                                            const TranslateOptions& options);

}  // namespace claudegate::translate
