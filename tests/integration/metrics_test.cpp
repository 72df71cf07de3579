// /metrics after scripted traffic through the real gateway, the exposition checked by a strict
// parser, /health's plan state, and the opt-in plan guard.
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

// Parses the Prometheus text format strictly; fails the test on any malformed line and returns
// sample name+labels → value.
std::map<std::string, double> ParseExposition(const std::string& text) {
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$)");
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::istringstream lines(text);
  std::string line;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_match(line, match, kHelp)) {
      EXPECT_TRUE(helped.insert(match[1]).second) << "duplicate HELP: " << line;
      continue;
    }
    if (std::regex_match(line, match, kType)) {
      EXPECT_TRUE(helped.count(match[1])) << "TYPE before HELP: " << line;
      EXPECT_TRUE(types.emplace(match[1], match[2]).second) << "duplicate TYPE: " << line;
      if (match[2] == "counter") {
        EXPECT_TRUE(std::string(match[1]).ends_with("_total")) << line;
      }
      continue;
    }
    if (!std::regex_match(line, match, kSample)) {
      ADD_FAILURE() << "malformed exposition line: '" << line << "'";
      continue;
    }
    std::string family = match[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!types.count(family) && family.ends_with(suffix)) {
        family = family.substr(0, family.size() - std::string_view(suffix).size());
      }
    }
    EXPECT_TRUE(types.count(family)) << "sample without TYPE: " << line;
    const auto space = line.rfind(' ');
    const std::string value = line.substr(space + 1);
    samples[line.substr(0, space)] = value == "+Inf" ? 1e308 : std::stod(value);
  }
  return samples;
}

double Sample(const std::map<std::string, double>& samples, const std::string& key) {
  const auto it = samples.find(key);
  return it == samples.end() ? -1 : it->second;
}

std::string Metrics(std::uint16_t port) {
  auto response = Fetch(port, http::verb::get, "/metrics", kTestMasterKey);
  EXPECT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->header("content-type").starts_with("text/plain; version=0.0.4"));
  return response->body();
}

std::vector<std::string> TranscriptWithCache() {
  auto transcript = TextStreamTranscript("claude-sonnet-5-5", {"hi"}, 10, 5);
  // message_start usage with cache reads and writes.
  transcript[0] = SseEvent("message_start", json{{"type", "message_start"},
                                                 {"message",
                                                  {{"id", "msg_1"},
                                                   {"type", "message"},
                                                   {"role", "assistant"},
                                                   {"content", json::array()},
                                                   {"model", "claude-sonnet-5-5"},
                                                   {"stop_reason", nullptr},
                                                   {"stop_sequence", nullptr},
                                                   {"usage",
                                                    {{"input_tokens", 10},
                                                     {"output_tokens", 1},
                                                     {"cache_read_input_tokens", 100},
                                                     {"cache_creation_input_tokens", 7}}}}}});
  return transcript;
}

TEST(Metrics, CountsRequestsTokensErrorsAndPlanState) {
  std::atomic<int> calls{0};
  FakeUpstream upstream([&calls](const RecordedRequest& request) {
    ++calls;
    if (request.body.find("\"please fail\"") != std::string::npos) {
      auto response = ErrorResponse(429, "rate_limit_error", "slow down");
      response.headers.emplace_back("retry-after", "30");
      return response;
    }
    auto response = SseResponse(TranscriptWithCache());
    response.headers.emplace_back("anthropic-ratelimit-unified-status", "allowed_warning");
    response.headers.emplace_back("anthropic-ratelimit-unified-representative-claim", "five_hour");
    response.headers.emplace_back("anthropic-ratelimit-unified-reset", "1900000000");
    response.headers.emplace_back("anthropic-ratelimit-unified-5h-utilization", "0.82");
    response.headers.emplace_back("anthropic-ratelimit-unified-5h-reset", "1900000000");
    response.headers.emplace_back("anthropic-ratelimit-unified-7d-utilization", "0.4");
    return response;
  });
  TestGateway gw(ConfigFor(upstream));
  const std::string chat = R"({"model":"sonnet","messages":[{"role":"user","content":"x"}]})";
  const std::string stream =
      R"({"model":"sonnet","stream":true,"messages":[{"role":"user","content":"x"}]})";
  const std::string fail =
      R"({"model":"sonnet","messages":[{"role":"user","content":"please fail"}]})";
  for (const auto* body : {&chat, &chat, &stream, &fail}) {
    ASSERT_TRUE(Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, *body));
  }
  ASSERT_TRUE(Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                    R"({"model":"sonnet","stream":true,"max_tokens":5,"messages":[]})"));
  ASSERT_TRUE(Fetch(gw.port(), http::verb::get, "/v1/models", "sk-wrong-key"));

  // The client has its bytes before the middleware records the request, so wait (bounded) until
  // the last request is counted.
  std::map<std::string, double> samples;
  for (int attempt = 0; attempt < 100; ++attempt) {
    samples = ParseExposition(Metrics(gw.port()));
    if (Sample(
            samples,
            R"(claudegate_requests_total{route="/v1/messages",model="sonnet",status_class="2xx"})") ==
            1 &&
        Sample(samples, R"(claudegate_auth_failures_total{reason="invalid"})") == 1) {
      break;
    }
  }
  const std::string chat_route = R"(route="/v1/chat/completions",model="sonnet")";
  EXPECT_EQ(Sample(samples, "claudegate_requests_total{" + chat_route + R"(,status_class="2xx"})"),
            3);
  EXPECT_EQ(Sample(samples, "claudegate_requests_total{" + chat_route + R"(,status_class="4xx"})"),
            1);
  EXPECT_EQ(
      Sample(
          samples,
          R"(claudegate_requests_total{route="/v1/messages",model="sonnet",status_class="2xx"})"),
      1);
  // 4 successful calls (3 chat + 1 messages) × the transcript's usage.
  EXPECT_EQ(Sample(samples, R"(claudegate_tokens_total{model="sonnet",type="input"})"), 40);
  EXPECT_EQ(Sample(samples, R"(claudegate_tokens_total{model="sonnet",type="output"})"), 20);
  EXPECT_EQ(Sample(samples, R"(claudegate_tokens_total{model="sonnet",type="cache_read"})"), 400);
  EXPECT_EQ(Sample(samples, R"(claudegate_tokens_total{model="sonnet",type="cache_write"})"), 28);
  EXPECT_EQ(
      Sample(
          samples,
          R"(claudegate_request_duration_seconds_count{route="/v1/chat/completions",stream="true"})"),
      1);
  EXPECT_EQ(
      Sample(
          samples,
          R"(claudegate_request_duration_seconds_count{route="/v1/chat/completions",stream="false"})"),
      3);
  EXPECT_EQ(
      Sample(
          samples,
          R"(claudegate_time_to_first_token_seconds_count{route="/v1/chat/completions",model="sonnet"})"),
      1);
  EXPECT_EQ(Sample(samples, R"(claudegate_upstream_errors_total{type="rate_limit_error"})"), 1);
  EXPECT_EQ(Sample(samples, R"(claudegate_auth_failures_total{reason="invalid"})"), 1);
  EXPECT_EQ(
      Sample(samples, R"(claudegate_plan_status{status="allowed_warning",claim="five_hour"})"), 1);
  EXPECT_DOUBLE_EQ(Sample(samples, R"(claudegate_plan_utilization_ratio{window="5h"})"), 0.82);
  EXPECT_EQ(Sample(samples, R"(claudegate_plan_reset_timestamp_seconds{window="current"})"),
            1900000000);
  EXPECT_GE(Sample(samples, "claudegate_requests_in_flight"), 1);  // the /metrics request itself
  EXPECT_EQ(Sample(samples, "claudegate_streams_open"), 0);
  EXPECT_GT(Sample(samples, "process_resident_memory_bytes"), 0);
  EXPECT_EQ(Sample(samples, R"(claudegate_build_info{version=")" CLAUDEGATE_VERSION R"("})"), 1);

  auto health = Fetch(gw.port(), http::verb::get, "/health", kTestMasterKey);
  ASSERT_TRUE(health);
  const auto health_body = json::parse(health->body());
  EXPECT_EQ(health_body["upstream"]["last_status"], 200);  // the /v1/messages call came last
  EXPECT_EQ(health_body["upstream"]["reachable"], true);
  auto plan = health_body["plan"];
  EXPECT_EQ(plan["status"], "allowed_warning");
  EXPECT_EQ(plan["representative_claim"], "five_hour");
  EXPECT_DOUBLE_EQ(plan["windows"]["5h"]["utilization"].get<double>(), 0.82);
}

TEST(Metrics, NeedsTheKeyUnlessConfiguredPublic) {
  FakeUpstream upstream([](const RecordedRequest&) { return ScriptedResponse{}; });
  {
    TestGateway gw(ConfigFor(upstream));
    auto refused = Fetch(gw.port(), http::verb::get, "/metrics");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401);
  }
  auto config = ConfigFor(upstream);
  config.metrics_public = true;
  TestGateway gw(std::move(config));
  auto open = Fetch(gw.port(), http::verb::get, "/metrics");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 200);
  ParseExposition(open->body());
}

ScriptedResponse WithPlanHeaders(std::string status, bool overage) {
  auto response = SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() +
                     3600;
  response.headers.emplace_back("anthropic-ratelimit-unified-status", std::move(status));
  response.headers.emplace_back("anthropic-ratelimit-unified-reset", std::to_string(reset));
  response.headers.emplace_back("anthropic-ratelimit-unified-representative-claim", "five_hour");
  if (overage) {
    response.headers.emplace_back("anthropic-ratelimit-unified-overage-in-use", "true");
  }
  return response;
}

struct GuardCase {
  bool enabled;
  std::string status;
  bool overage;
  bool expect_refused;
};

TEST(PlanGuard, RefusesOnlyWhenEnabledAndTheLimitIsReachedOrOverageInUse) {
  const std::vector<GuardCase> cases = {
      {false, "rejected", false, false},
      {true, "rejected", false, true},
      {true, "allowed", true, true},
      {true, "allowed_warning", false, false},
  };
  const std::string chat = R"({"model":"sonnet","messages":[{"role":"user","content":"x"}]})";
  for (const auto& c : cases) {
    FakeUpstream upstream(
        [&c](const RecordedRequest&) { return WithPlanHeaders(c.status, c.overage); });
    auto config = ConfigFor(upstream);
    config.plan_guard.enabled = c.enabled;
    TestGateway gw(std::move(config));
    // The first call teaches the gateway the plan state.
    ASSERT_TRUE(Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, chat));
    auto second = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, chat);
    ASSERT_TRUE(second);
    if (c.expect_refused) {
      EXPECT_EQ(second->status, 429) << c.status;
      EXPECT_EQ(json::parse(second->body())["error"]["code"], "plan_guard");
      EXPECT_NE(second->body().find("resets at"), std::string::npos) << second->body();
      EXPECT_EQ(second->header("x-should-retry"), "false");
      EXPECT_FALSE(second->header("retry-after").empty());
      EXPECT_EQ(upstream.requests().size(), 1U);
      // Anthropic-route clients get Anthropic's shape.
      auto messages = Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                            R"({"model":"sonnet"})");
      ASSERT_TRUE(messages);
      EXPECT_EQ(messages->status, 429);
      EXPECT_EQ(json::parse(messages->body())["error"]["type"], "rate_limit_error");
    } else {
      EXPECT_EQ(second->status, 200) << c.status;
      EXPECT_EQ(upstream.requests().size(), 2U);
    }
  }
}

}  // namespace
}  // namespace claudegate::testing
