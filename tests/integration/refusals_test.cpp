// Anthropic's refusals, named (issue #16 part 4): the fake upstream answers each kind with the
// headers and bodies third parties reported (docs/anthropic-notes.md#refusals); the OpenAI route
// gets its own code, status, message and retry hints, /v1/messages Anthropic's body byte for byte
// plus the x-claudegate-refusal header, the metrics count the kind, and the plan guard refuses
// with the same kinds.
#include <chrono>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kAccountLimit =
    "This request would exceed your account's rate limit. Please try again later.";

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A rejected plan window as a subscription answer reports it.
Headers Rejected(std::string claim, std::int64_t reset) {
  return {{"anthropic-ratelimit-unified-status", "rejected"},
          {"anthropic-ratelimit-unified-reset", std::to_string(reset)},
          {"anthropic-ratelimit-unified-representative-claim", std::move(claim)},
          {"anthropic-ratelimit-unified-5h-utilization", "1.0"},
          {"anthropic-ratelimit-unified-overage-status", "rejected"},
          {"anthropic-ratelimit-unified-overage-disabled-reason", "out_of_credits"}};
}

struct RefusalCase {
  std::string name;
  unsigned upstream_status;
  std::string type;
  std::string message;
  Headers headers;
  std::string label;        // x-claudegate-refusal and the metric's kind
  unsigned chat_status;     // on /v1/chat/completions
  std::string code;         // OpenAI error.code
  std::int64_t wait;        // expected retry-after in seconds (0: none), ±5 s
  bool should_retry_false;  // x-should-retry: false
};

std::vector<RefusalCase> Cases() {
  const auto now = NowSeconds();
  return {
      {"five_hour", 429, "rate_limit_error", std::string(kAccountLimit),
       Rejected("five_hour", now + 7200), "five_hour_limit", 429, "plan_limit_reached", 7200, true},
      {"weekly", 429, "rate_limit_error", std::string(kAccountLimit),
       Rejected("seven_day", now + 259200), "weekly_limit", 429, "plan_limit_reached", 259200,
       true},
      {"opus_weekly", 429, "rate_limit_error", std::string(kAccountLimit),
       Rejected("seven_day_opus", now + 90000), "model_limit", 429, "model_limit_reached", 90000,
       true},
      {"long_context",
       429,
       "rate_limit_error",
       "Extra usage is required for long context requests.",
       {{"anthropic-ratelimit-unified-status", "allowed"}},
       "long_context_extra_usage",
       402,
       "extra_usage_required",
       0,
       true},
      {"fast_mode",
       429,
       "rate_limit_error",
       "Fast mode disabled · extra usage credits exhausted",
       {},
       "fast_mode_extra_usage",
       402,
       "extra_usage_required",
       0,
       true},
      {"third_party",
       400,
       "invalid_request_error",
       "Third-party apps now draw from your extra usage, not your plan limits. Add more at "
       "claude.ai/settings/usage and keep going.",
       {},
       "third_party_extra_usage",
       402,
       "third_party_extra_usage",
       0,
       true},
      {"out_of_extra_usage",
       400,
       "invalid_request_error",
       "You're out of extra usage. Add more at claude.ai/settings/usage and keep going.",
       {},
       "out_of_extra_usage",
       402,
       "extra_usage_exhausted",
       0,
       true},
      {"model_not_in_plan",
       400,
       "invalid_request_error",
       "invalid model name",
       {},
       "model_not_in_plan",
       403,
       "model_not_in_plan",
       0,
       true},
      {"rate_limit",
       429,
       "rate_limit_error",
       "Rate limited",
       {{"retry-after", "5"}},
       "rate_limit",
       429,
       "rate_limit_exceeded",
       5,
       false},
      {"overloaded",
       529,
       "overloaded_error",
       "Overloaded",
       {},
       "overloaded",
       503,
       "overloaded",
       0,
       false},
  };
}

// The client has its bytes before the metrics middleware counts the request, so a sample is
// awaited (bounded) rather than read once.
bool ExpositionShows(std::uint16_t port, const std::string& sample) {
  return PollUntil(
      [&] {
        auto metrics = Fetch(port, http::verb::get, "/metrics", kTestMasterKey);
        return metrics && metrics->body().find(sample) != std::string::npos;
      },
      std::chrono::seconds(10));
}

const std::string kChat =
    R"({"model":"sonnet","messages":[{"role":"user","content":"Hi"}],"max_tokens":16})";

TEST(Refusals, EachKindReachesBothRoutesWithItsOwnName) {
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::string sent_body = AnthropicError(c.type, c.message);
    FakeUpstream upstream([&c, &sent_body](const RecordedRequest&) {
      auto response = ErrorResponse(c.upstream_status, c.type, c.message);
      response.body = sent_body;
      response.headers.insert(response.headers.end(), c.headers.begin(), c.headers.end());
      return response;
    });
    TestGateway gw(ConfigFor(upstream));

    auto chat = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
    ASSERT_TRUE(chat);
    EXPECT_EQ(chat->status, c.chat_status);
    const auto error = json::parse(chat->body())["error"];
    EXPECT_EQ(error["code"], c.code);
    const std::string message = error["message"];
    EXPECT_NE(message.find(c.message), std::string::npos) << message;  // Anthropic's words kept
    if (c.label != "overloaded") {
      EXPECT_NE(message.find("Anthropic said"), std::string::npos) << message;
    }
    EXPECT_EQ(chat->header("x-claudegate-refusal"), c.label);
    EXPECT_EQ(chat->header("x-should-retry") == "false", c.should_retry_false)
        << chat->header("x-should-retry");
    if (c.wait > 0) {
      const auto retry_after = std::stoll(chat->header("retry-after"));
      EXPECT_LE(retry_after, c.wait);
      EXPECT_GE(retry_after, c.wait - 5);
    } else {
      EXPECT_EQ(chat->header("retry-after"), "");
    }
    if (c.wait > 60) {
      EXPECT_NE(message.find("resets at"), std::string::npos) << message;
    }

    // /v1/messages: Anthropic's status and body exactly as sent (Claude Code matches on them).
    auto messages = Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey, kChat);
    ASSERT_TRUE(messages);
    EXPECT_EQ(messages->status, c.upstream_status);
    EXPECT_EQ(messages->body(), sent_body);
    EXPECT_EQ(messages->header("x-claudegate-refusal"), c.label);

    EXPECT_TRUE(ExpositionShows(gw.port(),
                                "claudegate_upstream_refusals_total{kind=\"" + c.label + "\"} 2"));
  }
}

TEST(Refusals, AnOrdinaryErrorIsNotNamed) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return ErrorResponse(400, "invalid_request_error", "max_tokens: too large");
  });
  TestGateway gw(ConfigFor(upstream));
  auto chat = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 400);
  EXPECT_EQ(json::parse(chat->body())["error"]["message"], "max_tokens: too large");
  EXPECT_EQ(chat->header("x-claudegate-refusal"), "");
}

TEST(Refusals, AMidStreamRefusalEventIsNamedInTheErrorFrame) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto transcript = TextStreamTranscript("claude-sonnet-5-5", {"partial"}, 1, 1);
    transcript.resize(4);  // message_start, block start, ping, first delta
    transcript.push_back(SseEvent(
        "error", json::parse(AnthropicError(
                     "rate_limit_error", "Extra usage is required for long context requests."))));
    return SseResponse(std::move(transcript));
  });
  TestGateway gw(ConfigFor(upstream));
  const std::string streamed =
      R"({"model":"sonnet","stream":true,"messages":[{"role":"user","content":"Hi"}]})";
  auto chat = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, streamed);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200);
  EXPECT_NE(chat->body().find(R"("code":"extra_usage_required")"), std::string::npos)
      << chat->body();
  EXPECT_NE(chat->body().find("Long-context"), std::string::npos);
  EXPECT_TRUE(ExpositionShows(
      gw.port(), R"(claudegate_upstream_refusals_total{kind="long_context_extra_usage"} 1)"));
}

struct GuardCase {
  std::string name;
  Headers headers;
  std::string label;
  std::string says;  // a phrase the message must contain
};

TEST(Refusals, ThePlanGuardRefusesWithTheSameKinds) {
  const auto reset = NowSeconds() + 3600;
  const std::vector<GuardCase> cases = {
      {"five_hour", Rejected("five_hour", reset), "five_hour_limit", "5-hour usage limit"},
      {"weekly", Rejected("seven_day", reset), "weekly_limit", "weekly usage limit"},
      {"model", Rejected("seven_day_sonnet", reset), "model_limit", "limit for Sonnet models"},
      {"overage",
       {{"anthropic-ratelimit-unified-status", "allowed"},
        {"anthropic-ratelimit-unified-reset", std::to_string(reset)},
        {"anthropic-ratelimit-unified-representative-claim", "five_hour"},
        {"anthropic-ratelimit-unified-overage-in-use", "true"}},
       "overage_in_use",
       "paid extra usage"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeUpstream upstream([&c](const RecordedRequest&) {
      auto response = SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
      response.headers.insert(response.headers.end(), c.headers.begin(), c.headers.end());
      return response;
    });
    auto config = ConfigFor(upstream);
    config.plan_guard.enabled = true;
    TestGateway gw(std::move(config));
    // The first call teaches the gateway the plan state.
    ASSERT_TRUE(Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat));
    for (const std::string target : {"/v1/chat/completions", "/v1/messages"}) {
      auto refused = Fetch(gw.port(), http::verb::post, target, kTestMasterKey, kChat);
      ASSERT_TRUE(refused);
      EXPECT_EQ(refused->status, 429);
      EXPECT_EQ(refused->header("x-claudegate-refusal"), c.label);
      EXPECT_EQ(refused->header("x-should-retry"), "false");
      const auto body = json::parse(refused->body());
      const std::string message = body["error"]["message"];
      EXPECT_NE(message.find(c.says), std::string::npos) << message;
      EXPECT_NE(message.find("resets at"), std::string::npos) << message;
      if (target == "/v1/messages") {
        EXPECT_EQ(body["type"], "error");  // Anthropic's shape
      } else {
        EXPECT_EQ(body["error"]["code"], "plan_guard");
      }
    }
    EXPECT_EQ(upstream.requests().size(), 1U);
    EXPECT_TRUE(ExpositionShows(
        gw.port(), "claudegate_plan_guard_refusals_total{reason=\"" + c.label + "\"} 2"));
  }
}

}  // namespace
}  // namespace claudegate::testing
