/// @file responses_rewrite.hpp
/// Internal to the Responses → chat rewrite (`ResponsesToChat()`, responses_request.hpp): the
/// state its parts share. `input` items are rewritten by responses_input_items.cpp, `tools` and
/// `tool_choice` by responses_tools.cpp, the rest by responses_request.cpp.
#pragma once

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/request/responses_request.hpp"
#include "claudegate/translate/request/translate_options.hpp"
#include "claudegate/translate/tool_name_map.hpp"

namespace claudegate::translate {

/// One rewrite in progress.
struct ResponsesRewrite {
  const TranslateOptions& options;
  ChatEquivalent out;
  nlohmann::json messages = nlohmann::json::array();  ///< Chat messages so far.
  /// Client tool ⇄ Claude tool names, from the request's `tools` (set before anything else).
  ToolNameMap names;
  /// The request offers web search: replayed web_search_call blocks are kept only then.
  bool offers_web_search = false;

  /// Records that chat parameter path `from` was the Responses path `to` (for error messages).
  void Rename(std::string from, std::string to) {
    out.renames.emplace_back(std::move(from), std::move(to));
  }
  /// The chat path of the next message pushed onto `messages`.
  [[nodiscard]] std::string NextMessageParam() const {
    return "messages[" + std::to_string(messages.size()) + "]";
  }
};

/// A 400 for state claudegate does not keep (code `unsupported_parameter`).
[[nodiscard]] inline Error Stateless(std::string message, std::string param) {
  return Error{ErrorKind::kInvalidRequest,
               std::move(message) +
                   " Send the conversation in `input`, or continue a stored response with "
                   "`previous_response_id`.",
               std::move(param), "unsupported_parameter"};
}

/// True for the Responses tool types claudegate maps to Claude's web search.
[[nodiscard]] bool IsWebSearchTool(std::string_view type);

/// `input` (a string or a list of items) → `rw.messages`.
[[nodiscard]] Result<void> RewriteInput(ResponsesRewrite& rw, const nlohmann::json& input);
/// `tools` → `rw.out.chat["tools"]`.
[[nodiscard]] Result<void> RewriteTools(ResponsesRewrite& rw, const nlohmann::json& request);
/// `tool_choice` → `rw.out.chat["tool_choice"]`.
[[nodiscard]] Result<void> RewriteToolChoice(ResponsesRewrite& rw, const nlohmann::json& request);

}  // namespace claudegate::translate
