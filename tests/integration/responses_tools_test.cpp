// Every tool type a Responses client (Codex CLI, the AI SDK) sends, through the real gateway to
// the scripted TLS fake upstream: custom and namespaced tools, web search with citations, and
// refused hosted tools (docs/codex.md#tool-types). Each test checks the upstream request as sent
// and the client's response, and round-trips the output items in a second request.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/anthropic_stream_script.hpp"
#include "support/fake_credentials.hpp"
#include "support/fake_upstream.hpp"
#include "support/responses_client.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

// What Codex declares by default (shell function, freeform apply_patch, an MCP server as a
// namespace, web search, tool search).
json CodexTools() {
  return json::parse(R"([
    {"type": "function", "name": "shell", "description": "Runs a command",
     "parameters": {"type": "object", "properties": {"command": {"type": "array",
       "items": {"type": "string"}}}, "required": ["command"]}},
    {"type": "custom", "name": "apply_patch", "description": "Edit files.",
     "format": {"type": "grammar", "syntax": "lark", "definition": "start: \"*** Begin Patch\""}},
    {"type": "namespace", "name": "mcp__browser__", "description": "Browser MCP server.",
     "tools": [{"type": "function", "name": "navigate", "defer_loading": true,
                "parameters": {"type": "object", "properties": {"url": {"type": "string"}}}}]},
    {"type": "web_search"},
    {"type": "tool_search"}
  ])");
}

const std::string kPatch =
    "*** Begin Patch\n*** Add File: a.txt\n+caf\xC3\xA9 \"q\"\n*** End Patch\n";

std::vector<std::string> CustomAndNamespacedCalls() {
  const std::string patch_json = json{{"input", kPatch}}.dump();
  return AnthropicStreamScript("msg_01Tools", "claude-sonnet-5-5")
      .ToolUse("toolu_01P", "apply_patch",
               {patch_json.substr(0, 17), patch_json.substr(17, 9), patch_json.substr(26)})
      .ToolUse("toolu_01N", "mcp__browser__navigate", {R"({"url":"https://example.com"})"})
      .Events("tool_use");
}

TEST(ResponsesTools, MapsCodexToolsAndRoundTripsCustomAndNamespacedCalls) {
  FakeUpstream upstream(
      [](const RecordedRequest&) { return StreamOk(CustomAndNamespacedCalls()); });
  TestGateway gw(ConfigFor(upstream));
  auto first =
      PostJson(gw.port(), {{"model", "sonnet"}, {"input", "Fix it"}, {"tools", CodexTools()}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body();

  const json sent = upstream.requests()[0].JsonBody();
  ASSERT_EQ(sent["tools"].size(), 4U) << sent["tools"].dump();  // tool_search dropped.
  EXPECT_EQ(sent["tools"][0]["name"], "shell");
  EXPECT_EQ(sent["tools"][1]["name"], "apply_patch");
  EXPECT_EQ(sent["tools"][1]["input_schema"]["required"], json::array({"input"}));
  EXPECT_NE(sent["tools"][1]["description"].get<std::string>().find("*** Begin Patch"),
            std::string::npos);
  EXPECT_EQ(sent["tools"][2]["name"], "mcp__browser__navigate");
  EXPECT_FALSE(sent["tools"][2].contains("defer_loading"));
  EXPECT_EQ(sent["tools"][3]["type"], "web_search_20250305");
  EXPECT_EQ(sent["tools"][3]["name"], "web_search");

  const json body = json::parse(first->body());
  ASSERT_EQ(body["output"].size(), 2U) << body.dump();
  const json custom = body["output"][0];
  EXPECT_EQ(custom["type"], "custom_tool_call");
  EXPECT_EQ(custom["call_id"], "toolu_01P");
  EXPECT_EQ(custom["name"], "apply_patch");
  EXPECT_EQ(custom["input"], kPatch);
  const json call = body["output"][1];
  EXPECT_EQ(call["type"], "function_call");
  EXPECT_EQ(call["name"], "navigate");
  EXPECT_EQ(call["namespace"], "mcp__browser__");

  json input = json::array({{{"role", "user"}, {"content", "Fix it"}}, custom, call});
  input.push_back(
      {{"type", "custom_tool_call_output"}, {"call_id", "toolu_01P"}, {"output", "ok"}});
  input.push_back({{"type", "function_call_output"}, {"call_id", "toolu_01N"}, {"output", "done"}});
  auto second =
      PostJson(gw.port(), {{"model", "sonnet"}, {"input", input}, {"tools", CodexTools()}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body();
  const json messages = upstream.requests()[1].JsonBody()["messages"];
  ASSERT_EQ(messages.size(), 3U) << messages.dump();
  EXPECT_EQ(messages[1]["content"][0]["name"], "apply_patch");
  EXPECT_EQ(messages[1]["content"][0]["input"], json({{"input", kPatch}}));
  EXPECT_EQ(messages[1]["content"][1]["name"], "mcp__browser__navigate");
  EXPECT_EQ(messages[2]["content"][0]["tool_use_id"], "toolu_01P");
  EXPECT_EQ(messages[2]["content"][1]["tool_use_id"], "toolu_01N");
}

TEST(ResponsesTools, StreamsACustomToolCallAsItsString) {
  FakeUpstream upstream(
      [](const RecordedRequest&) { return StreamOk(CustomAndNamespacedCalls()); });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostJson(
      gw.port(),
      {{"model", "sonnet"}, {"input", "Fix it"}, {"tools", CodexTools()}, {"stream", true}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  std::string deltas;
  json done_input;
  json done_items = json::array();
  for (const auto& frame : SseFrames(response->body())) {
    if (frame.event == "response.custom_tool_call_input.delta") {
      deltas += frame.data["delta"].get<std::string>();
    } else if (frame.event == "response.custom_tool_call_input.done") {
      done_input = frame.data["input"];
    } else if (frame.event == "response.output_item.done") {
      done_items.push_back(frame.data["item"]);
    }
  }
  EXPECT_EQ(deltas, kPatch);
  EXPECT_EQ(done_input, kPatch);
  ASSERT_EQ(done_items.size(), 2U);
  EXPECT_EQ(done_items[0]["type"], "custom_tool_call");
  EXPECT_EQ(done_items[0]["input"], kPatch);
  EXPECT_EQ(done_items[1]["namespace"], "mcp__browser__");
}

std::vector<std::string> SearchAnswer() {
  return AnthropicStreamScript("msg_01Search", "claude-sonnet-5-5")
      .WebSearch("srvtoolu_01S", "release date",
                 json::array({WebSearchResult("https://example.com/r", "Releases", "EqgfENC1"),
                              WebSearchResult("https://example.org/b", "Blog", "EqgfENC2")}))
      .Text("It shipped on April 30.",
            json::array({WebSearchCitation("https://example.com/r", "Releases", "April 30")}))
      .Events("end_turn");
}

TEST(ResponsesTools, WebSearchGivesACallItemAndCitationsAndReplaysIt) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamOk(SearchAnswer()); });
  TestGateway gw(ConfigFor(upstream));
  const json tools = json::parse(R"([{"type": "web_search_preview",
    "filters": {"allowed_domains": ["example.com"]},
    "user_location": {"type": "approximate", "city": "Paris", "country": "FR"}}])");
  auto first = PostJson(gw.port(), {{"model", "sonnet"}, {"input", "When?"}, {"tools", tools}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body();
  const json tool = upstream.requests()[0].JsonBody()["tools"][0];
  EXPECT_EQ(tool["type"], "web_search_20250305");
  EXPECT_EQ(tool["allowed_domains"], json::array({"example.com"}));
  EXPECT_EQ(tool["user_location"],
            json({{"type", "approximate"}, {"city", "Paris"}, {"country", "FR"}}));

  const json body = json::parse(first->body());
  ASSERT_EQ(body["output"].size(), 2U) << body.dump();
  const json search = body["output"][0];
  EXPECT_EQ(search["type"], "web_search_call");
  EXPECT_EQ(search["status"], "completed");
  EXPECT_EQ(search["action"]["query"], "release date");
  EXPECT_EQ(search["action"]["sources"][1]["url"], "https://example.org/b");
  const json annotation = body["output"][1]["content"][0]["annotations"][0];
  EXPECT_EQ(annotation["type"], "url_citation");
  EXPECT_EQ(annotation["url"], "https://example.com/r");
  EXPECT_EQ(annotation["end_index"], 23);

  json input = json::array({{{"role", "user"}, {"content", "When?"}},
                            search,
                            body["output"][1],
                            {{"role", "user"}, {"content", "Thanks"}}});
  auto second = PostJson(gw.port(), {{"model", "sonnet"}, {"input", input}, {"tools", tools}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body();
  const json messages = upstream.requests()[1].JsonBody()["messages"];
  ASSERT_EQ(messages.size(), 3U) << messages.dump();
  const json& replay = messages[1]["content"];
  ASSERT_EQ(replay.size(), 3U) << replay.dump();
  EXPECT_EQ(replay[0]["type"], "server_tool_use");
  EXPECT_EQ(replay[1]["type"], "web_search_tool_result");
  EXPECT_EQ(replay[1]["content"][0]["encrypted_content"], "EqgfENC1");
  EXPECT_EQ(replay[2]["text"], "It shipped on April 30.");

  // Codex keeps only OpenAI's fields: the search is dropped, the text stays.
  input[1].erase("anthropic_blocks");
  auto stripped = PostJson(gw.port(), {{"model", "sonnet"}, {"input", input}, {"tools", tools}});
  ASSERT_TRUE(stripped);
  ASSERT_EQ(stripped->status, 200) << stripped->body();
  const json kept = upstream.requests()[2].JsonBody()["messages"][1]["content"];
  ASSERT_EQ(kept.size(), 1U) << kept.dump();
  EXPECT_EQ(kept[0]["type"], "text");
}

TEST(ResponsesTools, StreamsWebSearchEventsAndAnnotations) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamOk(SearchAnswer()); });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostJson(gw.port(), {{"model", "sonnet"},
                                       {"input", "When?"},
                                       {"tools", json::array({{{"type", "web_search"}}})},
                                       {"stream", true}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  std::vector<std::string> events;
  json completed;
  for (const auto& frame : SseFrames(response->body())) {
    if (frame.event.starts_with("response.web_search_call.") ||
        frame.event == "response.output_text.annotation.added") {
      events.push_back(frame.event);
    }
    if (frame.event == "response.completed") {
      completed = frame.data["response"];
    }
  }
  EXPECT_EQ(events,
            (std::vector<std::string>{
                "response.web_search_call.in_progress", "response.web_search_call.searching",
                "response.web_search_call.completed", "response.output_text.annotation.added"}));
  ASSERT_EQ(completed["output"].size(), 2U) << completed.dump();
  EXPECT_EQ(completed["output"][0]["anthropic_blocks"][1]["type"], "web_search_tool_result");
  EXPECT_EQ(completed["output"][1]["content"][0]["annotations"].size(), 1U);
}

TEST(ResponsesTools, ChatWebSearchOptionsGiveAnnotations) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamOk(SearchAnswer()); });
  TestGateway gw(ConfigFor(upstream));
  const json request = json::parse(R"({"model": "sonnet",
    "messages": [{"role": "user", "content": "When?"}],
    "web_search_options": {"search_context_size": "low", "user_location": {"type": "approximate",
      "approximate": {"city": "Paris", "timezone": "Europe/Paris"}}}})");
  auto response = PostJson(gw.port(), request, "/v1/chat/completions");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  const json tool = upstream.requests()[0].JsonBody()["tools"][0];
  EXPECT_EQ(tool["type"], "web_search_20250305");
  EXPECT_EQ(tool["user_location"]["timezone"], "Europe/Paris");
  const json message = json::parse(response->body())["choices"][0]["message"];
  EXPECT_EQ(message["content"], "It shipped on April 30.");
  ASSERT_EQ(message["annotations"].size(), 1U) << message.dump();
  EXPECT_EQ(message["annotations"][0]["url_citation"]["url"], "https://example.com/r");
  EXPECT_EQ(message["annotations"][0]["url_citation"]["start_index"], 0);
}

TEST(ResponsesTools, RefusesHostedToolsInOpenAiShapeWithoutCallingUpstream) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamOk({}); });
  TestGateway gw(ConfigFor(upstream));
  for (const char* type : {"file_search", "code_interpreter", "image_generation", "mcp",
                           "computer_use_preview", "local_shell"}) {
    SCOPED_TRACE(type);
    auto response = PostJson(
        gw.port(),
        {{"model", "sonnet"},
         {"input", "Hi"},
         {"tools", json::array({{{"type", "function"}, {"name", "f"}}, {{"type", type}}})}});
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    const json error = json::parse(response->body())["error"];
    EXPECT_EQ(error["type"], "invalid_request_error");
    EXPECT_EQ(error["param"], "tools[1].type");
    EXPECT_NE(error["message"].get<std::string>().find(type), std::string::npos);
    EXPECT_NE(error["message"].get<std::string>().find("tools[1]"), std::string::npos);
  }
  EXPECT_TRUE(upstream.requests().empty());
}

}  // namespace
}  // namespace claudegate::testing
