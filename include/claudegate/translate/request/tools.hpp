/// @file tools.hpp
/// Converts OpenAI `tools`/`functions`, `tool_choice`/`function_call` and `parallel_tool_calls`
/// into Anthropic `tools` and `tool_choice` (docs/anthropic-notes.md#tools-and-tool-choice,
/// #messages step 5, #tool-choice-none).
///
/// Pure and thread-safe. Internal to request translation.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::translate {

/// Anthropic `tools` and `tool_choice`; each is null when it should be omitted.
struct ConvertedTools {
  nlohmann::json tools;
  nlohmann::json tool_choice;
};

/// Converts the tool fields of `request` (the whole OpenAI request object).
/// - `{type:"function"}` tools (and legacy `functions`) become `{name, description?,
///   input_schema, strict?, cache_control?}`; `input_schema` defaults to an empty object schema
///   and is forced to `type:"object"`; `strict` is kept only when the model supports structured
///   outputs.
/// - `tool_choice`: `auto`→`auto`, `none`→`none`, `required`→`any`, named→`tool`,
///   `allowed_tools` restricts `tools` to the subset (mode `auto`/`required`); legacy
///   `function_call` likewise. `parallel_tool_calls:false` sets `disable_parallel_tool_use`
///   (never on `none`; an absent choice becomes `auto`).
/// - `web_search_options` adds Claude's web search tool (`web_search_20250305`, with
///   `user_location`, and the claudegate extensions `filters` and `max_uses`;
///   docs/anthropic-notes.md#web-search) after the function tools.
/// - When no tools are sent but `history_tool_names` is not empty, minimal definitions are
///   synthesized and `tool_choice` is `none`, because upstream rejects tool blocks without tools.
///
/// @par Errors
/// 400 naming the parameter for `custom` tools or choices, invalid names, and forced choices
/// without tools.
[[nodiscard]] Result<ConvertedTools> ConvertTools(
    const nlohmann::json& request, const std::vector<std::string>& history_tool_names,
    const RequestContext& ctx);

}  // namespace claudegate::translate
