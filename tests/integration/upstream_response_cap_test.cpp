// A hostile upstream that never stops answering a non-streaming client (issue 14, finding 13):
// 64 KiB deltas went into the accumulated answer without bound (1.05 GB in 12 s). Every route that
// holds a whole answer stops at upstream.max_response_bytes with a 502 in its own error shape and
// closes the upstream connection.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::size_t kCap = 1024U * 1024U;
constexpr std::size_t kDeltaBytes = 64U * 1024U;
// 32 MiB of deltas: far past the cap, as good as endless for a gateway that stops at 1 MiB.
constexpr std::size_t kDeltas = 512;

// Text deltas, 64 KiB each, with no message_stop: an answer that never ends.
ScriptedResponse EndlessDeltas() {
  std::vector<std::string> chunks;
  chunks.push_back(
      SseEvent("message_start", json{{"type", "message_start"},
                                     {"message",
                                      {{"id", "msg_01"},
                                       {"type", "message"},
                                       {"role", "assistant"},
                                       {"model", "claude-sonnet-5-5"},
                                       {"content", json::array()},
                                       {"stop_reason", nullptr},
                                       {"usage", {{"input_tokens", 3}, {"output_tokens", 1}}}}}}));
  chunks.push_back(
      SseEvent("content_block_start", json{{"type", "content_block_start"},
                                           {"index", 0},
                                           {"content_block", {{"type", "text"}, {"text", ""}}}}));
  const std::string delta =
      SseEvent("content_block_delta",
               json{{"type", "content_block_delta"},
                    {"index", 0},
                    {"delta", {{"type", "text_delta"}, {"text", std::string(kDeltaBytes, 'x')}}}});
  for (std::size_t i = 0; i < kDeltas; ++i) {
    chunks.push_back(delta);
  }
  return SseResponse(std::move(chunks));
}

config::Config CapConfig(const FakeUpstream& upstream) {
  auto config = ConfigFor(upstream);
  config.upstream.max_response_bytes = kCap;
  // Not a timeout case: generous under the sanitizers on a loaded machine.
  config.upstream.first_byte_timeout = 30s;
  config.upstream.stream_idle_timeout = 30s;
  return config;
}

void ExpectCapError(const std::optional<TestResponse>& response, bool anthropic_shape) {
  ASSERT_TRUE(response) << "no answer";
  EXPECT_EQ(response->status, 502) << response->body().substr(0, 300);
  EXPECT_LT(response->body().size(), 4096U) << "the partial answer leaked out";
  const auto body = json::parse(response->body(), nullptr, false);
  ASSERT_TRUE(body.is_object()) << response->body().substr(0, 300);
  if (anthropic_shape) {
    EXPECT_EQ(body["type"], "error");
    EXPECT_EQ(body["error"]["type"], "api_error") << body.dump();
  } else {
    EXPECT_TRUE(body["error"].is_object()) << body.dump();
  }
  EXPECT_NE(body["error"]["message"].get<std::string>().find("max_response_bytes"),
            std::string::npos)
      << body.dump();
}

TEST(UpstreamResponseCap, ANonStreamChatCompletionStopsAtTheCap) {
  FakeUpstream upstream([](const RecordedRequest&) { return EndlessDeltas(); });
  TestGateway gw(CapConfig(upstream));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey,
                        R"({"model":"sonnet","messages":[{"role":"user","content":"Hi"}]})");
  ExpectCapError(response, false);
  // The rest of the answer is not read: the upstream connection is closed.
  EXPECT_TRUE(upstream.WaitForClientDisconnect(10s));
}

TEST(UpstreamResponseCap, ANonStreamResponseStopsAtTheCap) {
  FakeUpstream upstream([](const RecordedRequest&) { return EndlessDeltas(); });
  TestGateway gw(CapConfig(upstream));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/responses", kTestMasterKey,
                        R"({"model":"sonnet","input":"Hi"})");
  ExpectCapError(response, false);
  EXPECT_TRUE(upstream.WaitForClientDisconnect(10s));
}

TEST(UpstreamResponseCap, ANonStreamMessageOverTheCapIsA502InAnthropicShape) {
  // /v1/messages without stream gets a JSON body from the upstream; one over the cap.
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", std::string(2 * kCap, 'x'), 3, 2));
  });
  TestGateway gw(CapConfig(upstream));
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
            R"({"model":"sonnet","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]})",
            {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 502) << response->body().substr(0, 300);
  const auto body = json::parse(response->body(), nullptr, false);
  ASSERT_TRUE(body.is_object()) << response->body().substr(0, 300);
  EXPECT_EQ(body["type"], "error");
}

TEST(UpstreamResponseCap, AnAnswerUnderTheCapIsServed) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return SseResponse(
        TextStreamTranscript("claude-sonnet-5-5", {std::string(kCap / 2, 'y')}, 3, 2));
  });
  TestGateway gw(CapConfig(upstream));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey,
                        R"({"model":"sonnet","messages":[{"role":"user","content":"Hi"}]})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << response->body().substr(0, 300);
}

}  // namespace
}  // namespace claudegate::testing
