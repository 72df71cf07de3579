// POST /v1/responses through the real gateway to a scripted fake Anthropic upstream over TLS with
// verification on. Each test asserts the upstream request as sent and the client response as
// received.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_credentials.hpp"
#include "support/fake_upstream.hpp"
#include "support/responses_client.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

std::optional<TestResponse> PostResponses(std::uint16_t port, const std::string& body,
                                          std::string_view path = "/v1/responses") {
  return Fetch(port, http::verb::post, path, kTestMasterKey, body);
}

// An Anthropic transcript: a tool_use block with streamed input, stop_reason tool_use.
std::vector<std::string> ToolUseTranscript() {
  std::vector<std::string> events;
  events.push_back(
      SseEvent("message_start", json{{"type", "message_start"},
                                     {"message",
                                      {{"id", "msg_tool1"},
                                       {"type", "message"},
                                       {"role", "assistant"},
                                       {"model", "claude-sonnet-5-5"},
                                       {"content", json::array()},
                                       {"usage", {{"input_tokens", 20}, {"output_tokens", 1}}}}}}));
  events.push_back(SseEvent("content_block_start", json{{"type", "content_block_start"},
                                                        {"index", 0},
                                                        {"content_block",
                                                         {{"type", "tool_use"},
                                                          {"id", "toolu_01A"},
                                                          {"name", "get_weather"},
                                                          {"input", json::object()}}}}));
  for (const char* piece : {"{\"city\":", "\"Paris\"}"}) {
    events.push_back(
        SseEvent("content_block_delta",
                 json{{"type", "content_block_delta"},
                      {"index", 0},
                      {"delta", {{"type", "input_json_delta"}, {"partial_json", piece}}}}));
  }
  events.push_back(
      SseEvent("content_block_stop", json{{"type", "content_block_stop"}, {"index", 0}}));
  events.push_back(SseEvent("message_delta", json{{"type", "message_delta"},
                                                  {"delta", {{"stop_reason", "tool_use"}}},
                                                  {"usage", {{"output_tokens", 9}}}}));
  events.push_back(SseEvent("message_stop", json{{"type", "message_stop"}}));
  return events;
}

TEST(Responses, TranslatesANonStreamRequestAndAnswer) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"Hi", " there"}, 12, 3));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostResponses(
      gw.port(),
      R"({"model":"sonnet","instructions":"Be brief.","input":"Hello","max_output_tokens":50})");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  auto body = json::parse(response->body());
  EXPECT_EQ(body["object"], "response");
  EXPECT_EQ(body["status"], "completed");
  EXPECT_EQ(body["model"], "sonnet");
  EXPECT_TRUE(body["id"].get<std::string>().starts_with("resp_"));
  EXPECT_EQ(body["instructions"], "Be brief.");
  EXPECT_EQ(body["max_output_tokens"], 50);
  ASSERT_EQ(body["output"].size(), 1U);
  EXPECT_EQ(body["output"][0]["type"], "message");
  EXPECT_EQ(body["output"][0]["role"], "assistant");
  EXPECT_EQ(body["output"][0]["content"][0]["type"], "output_text");
  EXPECT_EQ(body["output"][0]["content"][0]["text"], "Hi there");
  EXPECT_EQ(body["usage"]["input_tokens"], 12);
  EXPECT_EQ(body["usage"]["output_tokens"], 3);
  EXPECT_EQ(body["usage"]["total_tokens"], 15);
  EXPECT_EQ(response->header("request-id"), "req_upstream_123");

  ASSERT_EQ(upstream.requests().size(), 1U);
  const auto sent = upstream.requests()[0];
  EXPECT_EQ(sent.target, "/v1/messages");
  EXPECT_EQ(sent.header("authorization"), std::string("Bearer sk-ant-oat01-test-token"));
  EXPECT_EQ(sent.body.find(kTestMasterKey), std::string::npos);
  auto sent_body = sent.JsonBody();
  EXPECT_EQ(sent_body["model"], "claude-sonnet-5-5");
  EXPECT_EQ(sent_body["system"][0]["text"], "Be brief.");
  EXPECT_EQ(sent_body["messages"][0]["content"][0]["text"], "Hello");
  EXPECT_EQ(sent_body["max_tokens"], 50);
  EXPECT_EQ(sent_body["stream"], true);
}

TEST(Responses, StreamsTheDocumentedEventSequence) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"Hé", "llo"}, 7, 4));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response =
      PostResponses(gw.port(), R"({"model":"sonnet","input":"Hello","stream":true})", "/responses");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  EXPECT_TRUE(response->header("content-type").starts_with("text/event-stream"));
  const auto frames = SseFrames(response->body());
  std::vector<std::string> types;
  std::string text;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].data["type"], frames[i].event);
    EXPECT_EQ(frames[i].data["sequence_number"], i);
    types.push_back(frames[i].event);
    if (frames[i].event == "response.output_text.delta") {
      text += frames[i].data["delta"].get<std::string>();
    }
  }
  const std::vector<std::string> expected = {
      "response.created",           "response.in_progress",
      "response.output_item.added", "response.content_part.added",
      "response.output_text.delta", "response.output_text.delta",
      "response.output_text.done",  "response.content_part.done",
      "response.output_item.done",  "response.completed"};
  EXPECT_EQ(types, expected);
  EXPECT_EQ(text, "Héllo");
  const auto& final_response = frames.back().data["response"];
  EXPECT_EQ(final_response["status"], "completed");
  EXPECT_EQ(final_response["output"][0]["content"][0]["text"], "Héllo");
  EXPECT_EQ(final_response["usage"]["input_tokens"], 7);
  EXPECT_EQ(final_response["usage"]["output_tokens"], 4);
}

TEST(Responses, RoundTripsAFunctionCall) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamOk(ToolUseTranscript()); });
  TestGateway gw(ConfigFor(upstream));
  const json tool =
      json::parse(R"({"type":"function","name":"get_weather","parameters":{"type":"object",)"
                  R"("properties":{"city":{"type":"string"}}}})");
  const json request = {{"model", "sonnet"}, {"input", "Weather?"}, {"tools", json::array({tool})}};
  auto first = PostResponses(gw.port(), request.dump());
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body();
  auto body = json::parse(first->body());
  ASSERT_EQ(body["output"].size(), 1U);
  const auto call = body["output"][0];
  EXPECT_EQ(call["type"], "function_call");
  EXPECT_EQ(call["call_id"], "toolu_01A");
  EXPECT_EQ(call["name"], "get_weather");
  EXPECT_EQ(json::parse(call["arguments"].get<std::string>()), json({{"city", "Paris"}}));
  auto sent = upstream.requests()[0].JsonBody();
  EXPECT_EQ(sent["tools"][0]["name"], "get_weather");
  EXPECT_EQ(sent["tools"][0]["input_schema"]["properties"]["city"]["type"], "string");

  json second = {
      {"model", "sonnet"},
      {"tools", json::array({tool})},
      {"input",
       json::array(
           {{{"role", "user"}, {"content", "Weather?"}},
            call,
            {{"type", "function_call_output"}, {"call_id", call["call_id"]}, {"output", "21C"}}})}};
  auto answer = PostResponses(gw.port(), second.dump());
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body();
  auto messages = upstream.requests()[1].JsonBody()["messages"];
  ASSERT_EQ(messages.size(), 3U);
  EXPECT_EQ(messages[1]["content"][0]["type"], "tool_use");
  EXPECT_EQ(messages[1]["content"][0]["id"], "toolu_01A");
  EXPECT_EQ(messages[1]["content"][0]["input"], json({{"city", "Paris"}}));
  EXPECT_EQ(messages[2]["content"][0]["type"], "tool_result");
  EXPECT_EQ(messages[2]["content"][0]["tool_use_id"], "toolu_01A");
  EXPECT_EQ(messages[2]["content"][0]["content"], "21C");
}

TEST(Responses, StoreOffRefusesStatefulRequestsWithoutCallingUpstream) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamOk({}); });
  TestGateway gw(ConfigFor(upstream));
  auto previous = PostResponses(
      gw.port(), R"({"model":"sonnet","input":"Hi","previous_response_id":"resp_abc"})");
  ASSERT_TRUE(previous);
  EXPECT_EQ(previous->status, 400);
  auto error = json::parse(previous->body())["error"];
  EXPECT_EQ(error["type"], "invalid_request_error");
  EXPECT_EQ(error["param"], "previous_response_id");
  EXPECT_EQ(error["code"], "response_not_stored");
  EXPECT_NE(error["message"].get<std::string>().find("turned off"), std::string::npos);

  auto retrieve = Fetch(gw.port(), http::verb::get, "/v1/responses/resp_abc", kTestMasterKey, "");
  ASSERT_TRUE(retrieve);
  EXPECT_EQ(retrieve->status, 404);
  auto retrieve_error = json::parse(retrieve->body())["error"];
  EXPECT_EQ(retrieve_error["code"], "response_not_stored");
  EXPECT_NE(retrieve_error["message"].get<std::string>().find("turned off"), std::string::npos);

  auto invalid = PostResponses(gw.port(), "{not json");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(Responses, RelaysUpstreamErrorsInOpenAiShape) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return ErrorResponse(429, "rate_limit_error", "Number of requests has exceeded your limit");
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostResponses(gw.port(), R"({"model":"sonnet","input":"Hi"})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 429);
  auto error = json::parse(response->body())["error"];
  EXPECT_EQ(error["type"], "rate_limit_error");
  EXPECT_NE(error["message"].get<std::string>().find("exceeded"), std::string::npos);
}

TEST(Responses, FailsTheResponseOnAMidStreamError) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto transcript = TextStreamTranscript("claude-sonnet-5-5", {"partial"}, 1, 1);
    transcript.resize(4);  // message_start, block start, ping, first delta
    transcript.push_back(SseEvent(
        "error", json{{"type", "error"},
                      {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}));
    return StreamOk(transcript);
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostResponses(gw.port(), R"({"model":"sonnet","input":"Hi","stream":true})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto frames = SseFrames(response->body());
  ASSERT_GE(frames.size(), 2U);
  EXPECT_EQ(frames[frames.size() - 2].event, "error");
  EXPECT_EQ(frames.back().event, "response.failed");
  EXPECT_EQ(frames.back().data["response"]["status"], "failed");
  EXPECT_EQ(frames.back().data["response"]["error"]["message"], "Overloaded");

  // The same failure for a non-streaming client is an HTTP error.
  auto plain = PostResponses(gw.port(), R"({"model":"sonnet","input":"Hi"})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 503);
}

}  // namespace
}  // namespace claudegate::testing
