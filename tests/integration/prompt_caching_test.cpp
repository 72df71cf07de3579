// Automatic prompt caching through the real gateway (docs/prompt-caching.md): which routes get
// cache_control breakpoints added, with which settings, as the TLS fake upstream receives them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

const json kEphemeral = {{"type", "ephemeral"}};

ScriptedResponse StreamReply() {
  ScriptedResponse response;
  response.headers.emplace_back("content-type", "text/event-stream");
  response.chunks = TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 5, 1);
  return response;
}

// The one upstream request's body.
json SentBody(const FakeUpstream& upstream) {
  const auto requests = upstream.requests();
  EXPECT_EQ(requests.size(), 1U);
  return requests.empty() ? json() : json::parse(requests[0].body);
}

const std::string kChatBody =
    R"({"model":"sonnet","messages":[{"role":"system","content":"Be brief."},)"
    R"({"role":"user","content":"Hello"},{"role":"assistant","content":"Hi."},)"
    R"({"role":"user","content":"Again"}],"prompt_cache_key":"session-1"})";

TEST(PromptCaching, ChatRouteMarksTailPreviousTurnAndSystemByDefault) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamReply(); });
  TestGateway gw(ConfigFor(upstream));
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChatBody);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  json sent = SentBody(upstream);  // non-const: a missing marker reads as null, not an assert
  EXPECT_EQ(sent["system"][0]["cache_control"], kEphemeral);
  EXPECT_EQ(sent["messages"][0]["content"][0]["cache_control"], kEphemeral);  // previous turn
  EXPECT_FALSE(sent["messages"][1]["content"][0].contains("cache_control"));
  EXPECT_EQ(sent["messages"][2]["content"][0]["cache_control"], kEphemeral);  // tail
  EXPECT_FALSE(sent.contains("prompt_cache_key"));
}

TEST(PromptCaching, ResponsesRouteMarksByDefaultWithTheConfiguredTtl) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamReply(); });
  auto config = ConfigFor(upstream);
  config.prompt_caching.ttl = config::CacheTtl::kOneHour;
  TestGateway gw(config);
  auto response = Fetch(gw.port(), http::verb::post, "/v1/responses", kTestMasterKey,
                        R"({"model":"sonnet","instructions":"Be brief.","input":"Hello",)"
                        R"("prompt_cache_key":"codex-session"})");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  json sent = SentBody(upstream);  // non-const: a missing marker reads as null, not an assert
  const json one_hour = {{"type", "ephemeral"}, {"ttl", "1h"}};
  EXPECT_EQ(sent["system"][0]["cache_control"], one_hour);
  EXPECT_EQ(sent["messages"][0]["content"][0]["cache_control"], one_hour);
}

TEST(PromptCaching, OffSendsNoMarkers) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamReply(); });
  auto config = ConfigFor(upstream);
  config.prompt_caching.mode = config::PromptCachingMode::kOff;
  TestGateway gw(config);
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChatBody);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  EXPECT_EQ(SentBody(upstream).dump().find("cache_control"), std::string::npos);
}

TEST(PromptCaching, LiteLlmInjectionPointsReplaceTheAutomaticPlacement) {
  FakeUpstream upstream([](const RecordedRequest&) { return StreamReply(); });
  auto config = ConfigFor(upstream);
  config::CacheInjectionPoint system;
  system.role = "system";
  config.prompt_caching.injection_points["sonnet"] = {system};
  TestGateway gw(config);
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChatBody);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  json sent = SentBody(upstream);  // non-const: a missing marker reads as null, not an assert
  EXPECT_EQ(sent["system"][0]["cache_control"], kEphemeral);
  EXPECT_EQ(sent["messages"].dump().find("cache_control"), std::string::npos);
}

const std::string kMessagesBody = R"({"model":"sonnet","max_tokens":5,"system":"Be brief.",)"
                                  R"("messages":[{"role":"user","content":"Hello"}]})";
const Headers kAnthropicHeaders = {{"x-api-key", kTestMasterKey},
                                   {"anthropic-version", "2023-06-01"}};

TEST(PromptCaching, MessagesRouteIsRelayedUnmarkedByDefault) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/messages", {}, kMessagesBody, kAnthropicHeaders);
  ASSERT_TRUE(response);
  ASSERT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(upstream.requests()[0].body.find("cache_control"), std::string::npos);
}

TEST(PromptCaching, MessagesRouteMarksWhenConfiguredButNeverOverClientMarkers) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 1, 1));
  });
  auto config = ConfigFor(upstream);
  config.prompt_caching.messages_route = true;
  TestGateway gw(config);
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/messages", {}, kMessagesBody, kAnthropicHeaders);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  json sent = SentBody(upstream);  // non-const: a missing marker reads as null, not an assert
  EXPECT_EQ(sent["model"], "claude-sonnet-5-5");
  EXPECT_EQ(sent["system"], json::parse(R"([{"type":"text","text":"Be brief.",)"
                                        R"("cache_control":{"type":"ephemeral"}}])"));
  EXPECT_EQ(sent["messages"][0]["content"][0]["cache_control"], kEphemeral);

  // Claude Code's own markers: the body goes through byte for byte (but for the model alias).
  const std::string marked =
      R"({"model":"claude-sonnet-5-5","max_tokens":5,"messages":[{"role":"user","content":)"
      R"([{"type":"text","text":"Hi","cache_control":{"type":"ephemeral","ttl":"1h"}}]}]})";
  auto second = Fetch(gw.port(), http::verb::post, "/v1/messages", {}, marked, kAnthropicHeaders);
  ASSERT_TRUE(second);
  ASSERT_EQ(upstream.requests().size(), 2U);
  EXPECT_EQ(upstream.requests()[1].body, marked);
}

}  // namespace
}  // namespace claudegate::testing
