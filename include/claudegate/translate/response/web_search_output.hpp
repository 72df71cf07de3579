/// @file web_search_output.hpp
/// Claude's web search, as OpenAI clients see it (docs/anthropic-notes.md#web-search,
/// docs/codex.md#tool-types):
/// - a `server_tool_use` block (name `web_search`, input `{query}`) and the
///   `web_search_tool_result` block after it become one Responses `web_search_call` output item:
///   `id` `ws_<server tool id>`, `status` `completed` (`failed` when the result is a
///   `web_search_tool_result_error`), `action` `{type:"search", query, sources:[{type:"url",
///   url}]}`; both blocks ride along unchanged in `anthropic_blocks` (`kWebSearchBlocksField`),
///   so the item sent back in a later `input` replays them, encrypted content included;
/// - `web_search_result_location` citations on a text block become `url_citation` annotations
///   spanning that block's text (Anthropic cites whole blocks; it gives no offsets inside them).
///
/// Pure and thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace claudegate::translate {

/// The extra `web_search_call` field carrying Claude's blocks for the round trip.
inline constexpr std::string_view kWebSearchBlocksField = "anthropic_blocks";

/// The `web_search_call` item for a `server_tool_use` block and its result (null while the
/// search runs: then `status` is `in_progress` and no blocks are attached).
[[nodiscard]] nlohmann::json WebSearchCallItem(const nlohmann::json& server_tool_use,
                                               const nlohmann::json& result);

/// True for a `server_tool_use` block of Claude's web search.
[[nodiscard]] bool IsWebSearchUse(const nlohmann::json& block);

/// Responses `url_citation` annotations (`{type, start_index, end_index, url, title}`) for the
/// `citations` of a text block covering characters [start, end); duplicates (same URL) merged.
[[nodiscard]] nlohmann::json UrlCitations(const nlohmann::json& citations, std::size_t start,
                                          std::size_t end);

/// Chat's form of the same: `{type:"url_citation", url_citation:{start_index, end_index, url,
/// title}}`.
[[nodiscard]] nlohmann::json ChatUrlCitations(const nlohmann::json& citations, std::size_t start,
                                              std::size_t end);

/// Length of UTF-8 `text` in Unicode code points (the unit of OpenAI's annotation indexes).
[[nodiscard]] std::size_t CodePointCount(std::string_view text);

}  // namespace claudegate::translate
