#include "support/anthropic_stream_script.hpp"

#include "support/fake_upstream.hpp"

namespace claudegate::testing {

using Json = nlohmann::ordered_json;

AnthropicStreamScript::AnthropicStreamScript(std::string message_id, std::string model,
                                             int input_tokens)
    : id_(std::move(message_id)), model_(std::move(model)), input_tokens_(input_tokens) {}

void AnthropicStreamScript::Block(Json start, const std::vector<Json>& deltas) {
  const std::size_t index = content_.size();
  Json event = Json::object();
  event["type"] = "content_block_start";
  event["index"] = index;
  event["content_block"] = std::move(start);
  events_.push_back(SseEvent("content_block_start", event));
  for (const auto& delta : deltas) {
    Json d = Json::object();
    d["type"] = "content_block_delta";
    d["index"] = index;
    d["delta"] = delta;
    events_.push_back(SseEvent("content_block_delta", d));
  }
  Json stop = Json::object();
  stop["type"] = "content_block_stop";
  stop["index"] = index;
  events_.push_back(SseEvent("content_block_stop", stop));
}

AnthropicStreamScript& AnthropicStreamScript::Text(const std::string& text,
                                                   const nlohmann::json& citations) {
  Json start = Json::object();
  start["type"] = "text";
  start["text"] = "";
  std::vector<Json> deltas;
  for (const auto& citation : citations) {
    Json delta = Json::object();
    delta["type"] = "citations_delta";
    delta["citation"] = Json::parse(citation.dump());
    deltas.push_back(std::move(delta));
  }
  Json delta = Json::object();
  delta["type"] = "text_delta";
  delta["text"] = text;
  deltas.push_back(std::move(delta));
  Block(std::move(start), deltas);
  nlohmann::json block = {{"type", "text"}, {"text", text}};
  if (!citations.empty()) {
    block["citations"] = citations;
  }
  content_.push_back(std::move(block));
  return *this;
}

AnthropicStreamScript& AnthropicStreamScript::ToolUse(
    const std::string& id, const std::string& name, const std::vector<std::string>& partial_json) {
  Json start = Json::object();
  start["type"] = "tool_use";
  start["id"] = id;
  start["name"] = name;
  start["input"] = Json::object();
  std::vector<Json> deltas;
  std::string whole;
  for (const auto& piece : partial_json) {
    Json delta = Json::object();
    delta["type"] = "input_json_delta";
    delta["partial_json"] = piece;
    deltas.push_back(std::move(delta));
    whole += piece;
  }
  Block(std::move(start), deltas);
  content_.push_back(
      {{"type", "tool_use"},
       {"id", id},
       {"name", name},
       {"input", whole.empty() ? nlohmann::json::object() : nlohmann::json::parse(whole)}});
  return *this;
}

AnthropicStreamScript& AnthropicStreamScript::WebSearch(const std::string& id,
                                                        const std::string& query,
                                                        const nlohmann::json& results) {
  ++searches_;
  Json use = Json::object();
  use["type"] = "server_tool_use";
  use["id"] = id;
  use["name"] = "web_search";
  use["input"] = Json::object();
  const std::string input = nlohmann::json{{"query", query}}.dump();
  std::vector<Json> deltas;
  for (const std::string& piece :
       {input.substr(0, input.size() / 2), input.substr(input.size() / 2)}) {
    Json delta = Json::object();
    delta["type"] = "input_json_delta";
    delta["partial_json"] = piece;
    deltas.push_back(std::move(delta));
  }
  Block(std::move(use), deltas);
  content_.push_back({{"type", "server_tool_use"},
                      {"id", id},
                      {"name", "web_search"},
                      {"input", {{"query", query}}}});
  Json result = Json::object();
  result["type"] = "web_search_tool_result";
  result["tool_use_id"] = id;
  result["content"] = Json::parse(results.dump());
  Block(result, {});
  content_.push_back(nlohmann::json::parse(result.dump()));
  return *this;
}

std::vector<std::string> AnthropicStreamScript::Events(const std::string& stop_reason,
                                                       int output_tokens) const {
  std::vector<std::string> events;
  Json usage = Json::object();
  usage["input_tokens"] = input_tokens_;
  usage["output_tokens"] = 1;
  Json message = Json::object();
  message["id"] = id_;
  message["type"] = "message";
  message["role"] = "assistant";
  message["content"] = Json::array();
  message["model"] = model_;
  message["stop_reason"] = nullptr;
  message["stop_sequence"] = nullptr;
  message["usage"] = std::move(usage);
  Json start = Json::object();
  start["type"] = "message_start";
  start["message"] = std::move(message);
  events.push_back(SseEvent("message_start", start));
  events.insert(events.end(), events_.begin(), events_.end());
  Json delta = Json::object();
  delta["stop_reason"] = stop_reason;
  delta["stop_sequence"] = nullptr;
  Json final_usage = Json::object();
  final_usage["output_tokens"] = output_tokens;
  if (searches_ > 0) {
    final_usage["server_tool_use"] = Json{{"web_search_requests", searches_}};
  }
  Json message_delta = Json::object();
  message_delta["type"] = "message_delta";
  message_delta["delta"] = std::move(delta);
  message_delta["usage"] = std::move(final_usage);
  events.push_back(SseEvent("message_delta", message_delta));
  events.push_back(SseEvent("message_stop", Json{{"type", "message_stop"}}));
  return events;
}

nlohmann::json AnthropicStreamScript::Message(const std::string& stop_reason,
                                              int output_tokens) const {
  nlohmann::json usage = {{"input_tokens", input_tokens_}, {"output_tokens", output_tokens}};
  if (searches_ > 0) {
    usage["server_tool_use"] = {{"web_search_requests", searches_}};
  }
  return {{"id", id_},
          {"type", "message"},
          {"role", "assistant"},
          {"model", model_},
          {"content", content_},
          {"stop_reason", stop_reason},
          {"stop_sequence", nullptr},
          {"usage", std::move(usage)}};
}

nlohmann::json WebSearchResult(const std::string& url, const std::string& title,
                               const std::string& encrypted_content) {
  return {{"type", "web_search_result"},
          {"title", title},
          {"url", url},
          {"encrypted_content", encrypted_content},
          {"page_age", "April 30, 2026"}};
}

nlohmann::json WebSearchCitation(const std::string& url, const std::string& title,
                                 const std::string& cited_text) {
  return {{"type", "web_search_result_location"},
          {"cited_text", cited_text},
          {"url", url},
          {"title", title},
          {"encrypted_index", "Eo8BCioIAhgBIiQy"}};
}

}  // namespace claudegate::testing
