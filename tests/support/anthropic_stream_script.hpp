// Scripts an Anthropic streamed answer block by block in Anthropic's exact wire format, for
// replies with tool calls, server-tool blocks (web search) and citations
// (docs/anthropic-notes.md#web-search). The gateway always streams upstream, so the fake upstream
// answers with `Events()`; `Message()` is the non-streamed Message the same answer accumulates to.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace claudegate::testing {

class AnthropicStreamScript {
 public:
  AnthropicStreamScript(std::string message_id, std::string model, int input_tokens = 20);

  /// A text block; each citation is sent as a `citations_delta` before the text.
  AnthropicStreamScript& Text(const std::string& text,
                              const nlohmann::json& citations = nlohmann::json::array());
  /// A tool_use block whose input arrives as these `input_json_delta` fragments.
  AnthropicStreamScript& ToolUse(const std::string& id, const std::string& name,
                                 const std::vector<std::string>& partial_json);
  /// A web search: `server_tool_use` (query streamed as input JSON) and its
  /// `web_search_tool_result` with `results` (or an error object as `content`).
  AnthropicStreamScript& WebSearch(const std::string& id, const std::string& query,
                                   const nlohmann::json& results);

  /// The SSE events, one per entry (for `ScriptedResponse::chunks`), ending with message_delta
  /// (`stop_reason`, usage incl. `server_tool_use.web_search_requests` when searches ran) and
  /// message_stop.
  [[nodiscard]] std::vector<std::string> Events(const std::string& stop_reason,
                                                int output_tokens = 30) const;
  /// The Message a non-streamed call would return for the same answer.
  [[nodiscard]] nlohmann::json Message(const std::string& stop_reason,
                                       int output_tokens = 30) const;

 private:
  void Block(nlohmann::ordered_json start, const std::vector<nlohmann::ordered_json>& deltas);

  std::string id_;
  std::string model_;
  int input_tokens_;
  int searches_ = 0;
  std::vector<std::string> events_;  // The content block events so far.
  nlohmann::json content_ = nlohmann::json::array();
};

/// A `web_search_result` entry of a `web_search_tool_result`.
nlohmann::json WebSearchResult(const std::string& url, const std::string& title,
                               const std::string& encrypted_content);
/// A `web_search_result_location` citation.
nlohmann::json WebSearchCitation(const std::string& url, const std::string& title,
                                 const std::string& cited_text);

}  // namespace claudegate::testing
