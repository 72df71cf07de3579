// POST /v1/messages and /v1/messages/count_tokens relayed to a TLS fake Anthropic upstream.
#include <algorithm>

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

Headers ClaudeCodeHeaders() {
  return {{"x-api-key", kTestMasterKey},
          {"anthropic-version", "2023-06-01"},
          {"anthropic-beta", "interleaved-thinking-2025-05-14, prompt-caching-2024-07-31"},
          {"cookie", "session=secret"},
          {"x-app", "cli"},
          {"accept", "application/json"}};
}

TEST(Messages, RelaysTheBodyByteForByte) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-opus-5-5", "hi", 3, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  // Unusual spacing, key order, unknown fields and roles must all survive.
  const std::string body =
      "{\"max_tokens\": 10,  "
      "\"model\":\"claude-opus-5-5\",\n\"messages\":[{\"role\":\"future_role\","
      "\"content\":\"x\"}],\"brand_new_field\":{\"nested\":[1,2.50,true]}}";
  TestClient client(gw.port());
  auto response =
      client.Request(http::verb::post, "/v1/messages?beta=true", body, ClaudeCodeHeaders());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(json::parse(response->body())["content"][0]["text"], "hi");
  ASSERT_EQ(upstream.requests().size(), 1U);
  const auto sent = upstream.requests()[0];
  EXPECT_EQ(sent.body, body);
  EXPECT_EQ(sent.target, "/v1/messages?beta=true");
}

TEST(Messages, ForwardsOnlyTheAllowedQueryParameters) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-opus-5-5", "hi", 3, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  const std::string body = R"({"model":"claude-opus-5-5","max_tokens":5,"messages":[]})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/v1/messages?beta=true&key=" + kTestMasterKey, "/v1/messages?beta=true"},
      {"/v1/messages?key=" + kTestMasterKey + "&beta=true", "/v1/messages?beta=true"},
      {"/v1/messages?api_key=x&utm=y", "/v1/messages"},
      {"/v1/messages/count_tokens?x=1&beta=true&beta=false",
       "/v1/messages/count_tokens?beta=true&beta=false"},
      {"/v1/messages?", "/v1/messages"},
  };
  for (const auto& [sent_target, expected] : cases) {
    auto response = Fetch(gw.port(), http::verb::post, sent_target, {}, body, ClaudeCodeHeaders());
    ASSERT_TRUE(response) << sent_target;
    EXPECT_EQ(response->status, 200) << sent_target;
  }
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(requests[i].target, cases[i].second) << cases[i].first;
    EXPECT_EQ(requests[i].target.find(kTestMasterKey), std::string::npos);
  }
}

TEST(Messages, SubstitutesAnAliasWithoutTouchingTheRest) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  const std::string body = R"({"model" : "sonnet", "max_tokens":5,"messages":[]})";
  auto response = Fetch(gw.port(), http::verb::post, "/v1/messages", {}, body, ClaudeCodeHeaders());
  ASSERT_TRUE(response);
  EXPECT_EQ(upstream.requests().at(0).body,
            R"({"model" : "claude-sonnet-5-5", "max_tokens":5,"messages":[]})");
}

TEST(Messages, SwapsTheCredentialAndForwardsOnlyAllowedHeaders) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/messages", {},
                        R"({"model":"claude-sonnet-5-5"})", ClaudeCodeHeaders());
  ASSERT_TRUE(response);
  const auto sent = upstream.requests().at(0);
  EXPECT_EQ(sent.header("authorization"), "Bearer sk-ant-oat01-test-token");
  EXPECT_EQ(sent.header("x-api-key"), "");
  EXPECT_EQ(sent.header("cookie"), "");
  EXPECT_EQ(sent.header("x-app"), "");
  EXPECT_EQ(sent.header("anthropic-version"), "2023-06-01");
  // Client betas kept (deprecated ones dropped), OAuth beta added.
  EXPECT_EQ(sent.header("anthropic-beta"), "interleaved-thinking-2025-05-14,oauth-2025-04-20");
  EXPECT_TRUE(sent.header("user-agent").starts_with("claudegate/"));
  for (const auto& field : sent.headers) {
    EXPECT_EQ(std::string(field.value()).find(kTestMasterKey), std::string::npos);
  }
}

TEST(Messages, ForwardsEveryRepeatedAnthropicBetaLine) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
            R"({"model":"claude-sonnet-5-5"})",
            {{"anthropic-beta", "interleaved-thinking-2025-05-14"},
             {"anthropic-beta", "context-1m-2025-08-07, fine-grained-tool-streaming-2025-05-14"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(upstream.requests().at(0).header("anthropic-beta"),
            "interleaved-thinking-2025-05-14,context-1m-2025-08-07,"
            "fine-grained-tool-streaming-2025-05-14,oauth-2025-04-20");
}

TEST(Messages, AcceptsTheSdk1xBearerStyleAndNewerVersion) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                        R"({"model":"sonnet"})", {{"anthropic-version", "2026-10-21"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(upstream.requests().at(0).header("anthropic-version"), "2026-10-21");
}

TEST(Messages, RelaysAStreamEventForEvent) {
  const auto transcript = TextStreamTranscript("claude-sonnet-5-5", {"a", "b", "c"}, 2, 3);
  FakeUpstream upstream([&transcript](const RecordedRequest&) { return SseResponse(transcript); });
  TestGateway gw(ConfigFor(upstream));
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
            R"({"model":"sonnet","stream":true})", {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->header("content-type").starts_with("text/event-stream"));
  std::string expected;
  for (const auto& event : transcript) {
    expected += event;
  }
  EXPECT_EQ(response->body(), expected);
}

TEST(Messages, RelaysUpstreamErrorsUnchanged) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto response = ErrorResponse(429, "rate_limit_error", "slow down");
    response.headers.emplace_back("retry-after", "30");
    response.headers.emplace_back("anthropic-ratelimit-unified-status", "rejected");
    response.headers.emplace_back("set-cookie", "upstream=1");
    return response;
  });
  TestGateway gw(ConfigFor(upstream));
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey, R"({"model":"sonnet"})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 429);
  auto body = json::parse(response->body());
  EXPECT_EQ(body["error"]["type"], "rate_limit_error");
  EXPECT_EQ(body["error"]["message"], "slow down");
  EXPECT_EQ(response->header("retry-after"), "30");
  EXPECT_EQ(response->header("anthropic-ratelimit-unified-status"), "rejected");
  EXPECT_EQ(response->header("set-cookie"), "");
}

TEST(Messages, AnswersGatewayErrorsInAnthropicShape) {
  FakeUpstream upstream([](const RecordedRequest&) { return ScriptedResponse{}; });
  TestGateway gw(ConfigFor(upstream));
  auto bad_json = Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey, "{oops");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(json::parse(bad_json->body())["type"], "error");
  auto bad_model =
      Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey, R"({"model":"gpt-4"})");
  ASSERT_TRUE(bad_model);
  EXPECT_EQ(bad_model->status, 404);
  EXPECT_EQ(json::parse(bad_model->body())["error"]["type"], "not_found_error");
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(Messages, RelaysCountTokens) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    EXPECT_EQ(request.target, "/v1/messages/count_tokens");
    return JsonResponse(json{{"input_tokens", 42}});
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/messages/count_tokens", kTestMasterKey,
                        R"({"model":"haiku","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(json::parse(response->body())["input_tokens"], 42);
  EXPECT_EQ(upstream.requests().at(0).JsonBody()["model"], "claude-haiku-5-5");
}

// Heartbeats reach /v1/messages too since the exchange/pump refactor (docs/architecture.md, "The
// exchange and the pump"): before, a long upstream pause sent nothing and proxies in front could
// cut the stream. A heartbeat goes only between two events: here the upstream pauses once after a
// whole event and once in the middle of one, and only the first pause may carry comments.
TEST(Messages, SendsHeartbeatsBetweenEventsDuringLongSilences) {
  const auto transcript = TextStreamTranscript("claude-sonnet-5-5", {"a", "b"}, 1, 1);
  ASSERT_GE(transcript.size(), 3U);
  const std::string& split = transcript[2];
  std::vector<std::string> chunks = {transcript[0] + transcript[1],
                                     split.substr(0, split.size() / 2),
                                     split.substr(split.size() / 2)};
  for (std::size_t i = 3; i < transcript.size(); ++i) {
    chunks.back() += transcript[i];
  }
  std::string sent;
  for (const auto& chunk : chunks) {
    sent += chunk;
  }
  FakeUpstream upstream([&](const RecordedRequest&) {
    auto response = SseResponse(chunks);
    response.delay_between_chunks = std::chrono::milliseconds(300);
    return response;
  });
  auto config = ConfigFor(upstream);
  config.upstream.heartbeat_interval = std::chrono::milliseconds(50);
  TestGateway gw(std::move(config));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                        R"({"model":"sonnet","max_tokens":5,"stream":true,"messages":[]})",
                        {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  // The body without its heartbeats is the upstream's bytes; each heartbeat sat where the
  // relayed bytes ended between two events, and the long pause after the first chunk had some.
  const std::string& body = response->body();
  constexpr std::string_view kHeartbeat = ": keep-alive\n\n";
  std::string relayed;
  std::vector<std::size_t> beats_at;  // offsets into `relayed`
  for (std::size_t at = 0; at < body.size();) {
    if (body.compare(at, kHeartbeat.size(), kHeartbeat) == 0) {
      beats_at.push_back(relayed.size());
      at += kHeartbeat.size();
    } else {
      relayed += body[at++];
    }
  }
  EXPECT_EQ(relayed, sent);
  for (const std::size_t at : beats_at) {
    EXPECT_TRUE(at == 0 || sent.compare(at - 2, 2, "\n\n") == 0)
        << "a heartbeat inside an event, at " << at << " of " << sent.size();
  }
  EXPECT_NE(std::find(beats_at.begin(), beats_at.end(), chunks[0].size()), beats_at.end());
}

// A stream cut inside an event ends with an error event of its own: before the exchange/pump
// refactor the error lines were glued onto the half event, so no SSE parser could see the error.
TEST(Messages, AStreamCutInsideAnEventEndsWithAnErrorEventOfItsOwn) {
  const auto transcript = TextStreamTranscript("claude-sonnet-5-5", {"a", "b"}, 1, 1);
  ASSERT_GE(transcript.size(), 3U);
  const std::string half = transcript[1].substr(0, transcript[1].size() / 2);
  FakeUpstream upstream([&](const RecordedRequest&) {
    // The fake sends the first half of the chunks, then closes cleanly: transcript[0] and half an
    // event.
    auto response =
        SseResponse({transcript[0], half, transcript[1].substr(half.size()), transcript[2]});
    response.fault = ScriptedResponse::Fault::kTruncateCleanly;
    return response;
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                        R"({"model":"sonnet","max_tokens":5,"stream":true,"messages":[]})",
                        {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  const std::string& body = response->body();
  const std::string relayed = transcript[0] + half;
  ASSERT_EQ(body.substr(0, relayed.size()), relayed) << body;
  const std::string error_head = "\n\nevent: error\ndata: ";
  ASSERT_EQ(body.substr(relayed.size(), error_head.size()), error_head) << body;
  ASSERT_TRUE(body.ends_with("\n\n"));
  const auto error = json::parse(body.substr(relayed.size() + error_head.size(),
                                             body.size() - relayed.size() - error_head.size() - 2),
                                 nullptr, false);
  ASSERT_TRUE(error.is_object()) << body;
  EXPECT_EQ(error["type"], "error");
  EXPECT_EQ(error["error"]["type"], "api_error");
}

TEST(Messages, ClosesTheUpstreamWhenTheClientDisconnects) {
  FakeUpstream upstream([](const RecordedRequest&) {
    std::vector<std::string> pieces(50, "word ");
    auto response = SseResponse(TextStreamTranscript("claude-sonnet-5-5", pieces, 1, 1));
    response.delay_between_chunks = std::chrono::milliseconds(200);
    return response;
  });
  TestGateway gw(ConfigFor(upstream));
  {
    TestClient client(gw.port());
    const std::string body = R"({"model":"sonnet","stream":true})";
    client.SendRaw("POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: " + kTestMasterKey +
                   "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    ASSERT_TRUE(upstream.WaitForRequests(1, std::chrono::seconds(5)));
  }
  EXPECT_TRUE(upstream.WaitForClientDisconnect(std::chrono::seconds(2)));
}

}  // namespace
}  // namespace claudegate::testing
