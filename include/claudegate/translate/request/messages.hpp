/// @file messages.hpp
/// Converts the OpenAI `messages` array into Anthropic `system` + `messages`
/// (docs/anthropic-notes.md#messages, #tool-calls-in-history, #edge-cases), including the
/// tool-call ordering rules the upstream enforces.
///
/// Pure and thread-safe. Internal to request translation.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::translate {

/// The converted conversation.
struct ConvertedMessages {
  nlohmann::json system = nlohmann::json::array();    ///< Text blocks; empty when none.
  nlohmann::json messages = nlohmann::json::array();  ///< Alternating user/assistant turns.
  std::vector<std::string> history_tool_names;        ///< Tool names used by `tool_use` blocks.
};

/// Runs the algorithm of docs/anthropic-notes.md#messages:
/// - `system`/`developer` messages are hoisted, in order, into `system` text blocks;
/// - runs of `user`/`tool`/`function` messages become one user turn with every `tool_result`
///   first (in the order of the preceding assistant's `tool_calls`, last result per id wins), then
///   the user content; runs of assistant messages become one assistant turn with LiteLLM-style
///   `thinking_blocks` first, then text, then `tool_use`;
/// - `tool_calls[].function.arguments` is parsed into `input` (`""` → `{}`); tool-call ids are
///   sanitized to `[A-Za-z0-9_-]` identically on both sides; `reasoning_content` and `name` are
///   dropped; messages that end up empty are removed and their neighbours merged;
/// - a trailing assistant message is a prefill: trailing whitespace is trimmed, and on models
///   without prefill support it is dropped (`drop_params`) or rejected.
///
/// @par Errors
/// 400 naming the offending path (`messages[i].…`) for malformed messages, invalid tool
/// arguments, tool calls without results, results without calls, and an empty conversation.
[[nodiscard]] Result<ConvertedMessages> ConvertMessages(const nlohmann::json& messages,
                                                        const RequestContext& ctx);

}  // namespace claudegate::translate
