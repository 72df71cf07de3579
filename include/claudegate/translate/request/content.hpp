/// @file content.hpp
/// Converts OpenAI message content (strings and content parts) into Anthropic content blocks
/// (docs/anthropic-notes.md#content-parts, #prompt-caching, #tool-result-content,
/// #images-and-urls, #empty-messages).
///
/// Pure and thread-safe. Internal to request translation.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::translate {

/// Which message kind the parts belong to; it decides which part types are allowed.
enum class ContentRole {
  kSystem,      ///< text only.
  kUser,        ///< text, image_url, file, input_audio (dropped or 400).
  kAssistant,   ///< text and refusal (as text); audio dropped.
  kToolResult,  ///< text and image_url (accepted even though OpenAI types allow only text).
};

/// Appends the blocks for `content` (a string, an array of parts, or null) to `blocks`.
/// Empty texts are skipped (Anthropic rejects empty text blocks). `param` is the JSON path of the
/// content (e.g. `messages[3].content`) and is used in errors as `param[j]`.
///
/// @par Errors
/// 400 naming the part for unsupported part types (unless `drop_params` allows dropping), bad
/// data URLs or base64, unsupported media types, non-https image URLs, and malformed parts.
[[nodiscard]] Result<void> AppendContentBlocks(const nlohmann::json& content, ContentRole role,
                                               const std::string& param, const RequestContext& ctx,
                                               nlohmann::json& blocks);

/// Copies a part's non-standard `cache_control`, or maps OpenAI's `prompt_cache_breakpoint`, onto
/// the block (docs/anthropic-notes.md#prompt-caching).
void CopyCacheControl(const nlohmann::json& source, nlohmann::json& block);

}  // namespace claudegate::translate
