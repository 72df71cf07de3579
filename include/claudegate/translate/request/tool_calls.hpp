/// @file tool_calls.hpp
/// Assistant `tool_calls` in OpenAI history → Anthropic `tool_use` blocks
/// (docs/anthropic-notes.md#tool-calls-in-history), and the tool id and name rules both
/// directions share.
///
/// Pure and thread-safe. Internal to request translation.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"

namespace claudegate::translate {

/// Builds `{type:"tool_use", id, name, input}` from an OpenAI tool call object
/// (`{function:{name, arguments}}`). `arguments` is a JSON string that must encode an object
/// (`""` or missing → `{}`; an already-parsed object is accepted too). `param` is the call's
/// path, e.g. `messages[1].tool_calls[0]`.
///
/// @par Errors
/// 400 with `param` + `.function`, `.function.name` or `.function.arguments` for a missing
/// function, an invalid name, or arguments that are not valid JSON or not an object.
[[nodiscard]] Result<nlohmann::json> ToolUseFromCall(const nlohmann::json& call,
                                                     const std::string& param, std::string id);

/// Replaces every character outside `[A-Za-z0-9_-]` with `_` (Anthropic's tool id alphabet).
/// Applied identically to `tool_calls[].id` and `tool_call_id`, so pairs keep matching.
[[nodiscard]] std::string SanitizeToolId(std::string_view id);

/// True when `name` matches Anthropic's `^[a-zA-Z0-9_-]{1,128}$`.
[[nodiscard]] bool IsValidToolName(std::string_view name);

}  // namespace claudegate::translate
