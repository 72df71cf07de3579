// Retries and fallbacks (issue #16 part 3) through the real gateway against the TLS fake
// upstream, scripted to fail N times with each failure kind, on chat completions, /v1/messages
// and /v1/responses, streamed and not: the client sees one clean answer and the upstream the
// attempts the policy allows (exchange/retry_policy.hpp). Delays are tiny (10 ms backoff) except
// where a test needs a wait it can observe; nothing sleeps to wait for an event.
#include <array>
#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
using namespace std::chrono_literals;
using Fault = ScriptedResponse::Fault;

enum class Route { kChat, kChatStream, kMessages, kMessagesStream, kResponsesStream };
constexpr std::array kRoutes = {Route::kChat, Route::kChatStream, Route::kMessages,
                                Route::kMessagesStream};

const char* Name(Route route) {
  switch (route) {
    case Route::kChat:
      return "chat";
    case Route::kChatStream:
      return "chat stream";
    case Route::kMessages:
      return "messages";
    case Route::kMessagesStream:
      return "messages stream";
    case Route::kResponsesStream:
      return "responses stream";
  }
  return "?";
}

bool Streams(Route route) { return route != Route::kChat && route != Route::kMessages; }

config::Config RetryConfig(const FakeUpstream& upstream) {
  auto config = ConfigFor(upstream);
  config.retries.num_retries = 2;
  config.retries.initial_backoff = 10ms;
  config.retries.max_backoff = 40ms;
  config.retries.budget = 10s;
  return config;
}

std::optional<TestResponse> Send(const TestGateway& gw, Route route,
                                 const std::string& model = "sonnet") {
  const std::string stream = Streams(route) ? "true" : "false";
  switch (route) {
    case Route::kChat:
    case Route::kChatStream:
      return Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey,
                   R"({"model":")" + model + R"(","stream":)" + stream +
                       R"(,"messages":[{"role":"user","content":"hi"}]})");
    case Route::kMessages:
    case Route::kMessagesStream:
      return Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                   R"({"model":")" + model + R"(","stream":)" + stream +
                       R"(,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]})",
                   {{"anthropic-version", "2023-06-01"}});
    case Route::kResponsesStream:
      return Fetch(gw.port(), http::verb::post, "/v1/responses", kTestMasterKey,
                   R"({"model":")" + model + R"(","stream":true,"input":"hi"})");
  }
  return std::nullopt;
}

// A success for whatever was asked: an event stream when the upstream request streams.
ScriptedResponse Success(const RecordedRequest& request) {
  const auto body = request.JsonBody();
  const std::string model = body.value("model", "claude-sonnet-5-5");
  if (body.value("stream", false)) {
    return SseResponse(TextStreamTranscript(model, {"hel", "lo"}, 3, 2));
  }
  return JsonResponse(TextMessage(model, "hello", 3, 2));
}

std::string ErrorEvent(const std::string& type) {
  return SseEvent("error", json{{"type", "error"}, {"error", {{"type", type}, {"message", "x"}}}});
}

// The ways an attempt fails before any byte reached the client.
enum class Kind {
  k529,
  k500,
  k503,
  kReset,
  kClosed,
  k429Hint,
  kFirstEventOverloaded,
  kEventAfterStart
};

const char* Name(Kind kind) {
  switch (kind) {
    case Kind::k529:
      return "529";
    case Kind::k500:
      return "500";
    case Kind::k503:
      return "503";
    case Kind::kReset:
      return "reset before headers";
    case Kind::kClosed:
      return "closed before headers";
    case Kind::k429Hint:
      return "429 with retry-after-ms";
    case Kind::kFirstEventOverloaded:
      return "overloaded_error as the first event";
    case Kind::kEventAfterStart:
      return "api_error after message_start";
  }
  return "?";
}

// The metrics label (exchange::FailureLabel) each kind is counted under.
std::string Label(Kind kind) {
  switch (kind) {
    case Kind::k529:
      return "overloaded";
    case Kind::k500:
    case Kind::k503:
      return "server_error";
    case Kind::kReset:
    case Kind::kClosed:
      return "connection";
    case Kind::k429Hint:
      return "rate_limited";
    case Kind::kFirstEventOverloaded:
    case Kind::kEventAfterStart:
      return "stream_error_event";
  }
  return "?";
}

ScriptedResponse Failure(Kind kind, const RecordedRequest& request) {
  switch (kind) {
    case Kind::k529:
      return ErrorResponse(529, "overloaded_error", "Overloaded");
    case Kind::k500:
      return ErrorResponse(500, "api_error", "Internal server error");
    case Kind::k503:
      return ErrorResponse(503, "api_error", "unavailable");
    case Kind::kReset: {
      ScriptedResponse response;
      response.fault = Fault::kResetBeforeHeaders;
      return response;
    }
    case Kind::kClosed: {
      ScriptedResponse response;
      response.fault = Fault::kCloseBeforeHeaders;
      return response;
    }
    case Kind::k429Hint: {
      auto response = ErrorResponse(429, "rate_limit_error", "slow down");
      response.headers.emplace_back("retry-after-ms", "20");
      return response;
    }
    case Kind::kFirstEventOverloaded:
      return SseResponse({ErrorEvent("overloaded_error")});
    case Kind::kEventAfterStart: {
      auto transcript = TextStreamTranscript(request.JsonBody().value("model", ""), {"x"}, 1, 1);
      return SseResponse({transcript[0], ErrorEvent("api_error")});
    }
  }
  return Success(request);
}

// Which kinds can happen on a route: a stream error event needs an upstream that streams (the
// chat route streams upstream for non-streaming clients too; /v1/messages asks as the client did).
bool Applies(Kind kind, Route route) {
  const bool event = kind == Kind::kFirstEventOverloaded || kind == Kind::kEventAfterStart;
  return !event || route != Route::kMessages;
}

TEST(Retries, EachFailureKindBeforeTheFirstByteIsRetriedUnseen) {
  for (const Kind kind : {Kind::k529, Kind::k500, Kind::k503, Kind::kReset, Kind::kClosed,
                          Kind::k429Hint, Kind::kFirstEventOverloaded, Kind::kEventAfterStart}) {
    for (const Route route : kRoutes) {
      if (!Applies(kind, route)) {
        continue;
      }
      SCOPED_TRACE(std::string(Name(kind)) + " on " + Name(route));
      std::atomic<int> seen{0};
      FakeUpstream upstream([&](const RecordedRequest& request) {
        return ++seen <= 2 ? Failure(kind, request) : Success(request);
      });
      TestGateway gw(RetryConfig(upstream));
      auto response = Send(gw, route);
      ASSERT_TRUE(response);
      EXPECT_EQ(response->status, 200) << response->body();
      EXPECT_EQ(upstream.requests().size(), 3U);
      EXPECT_EQ(response->body().find("error"), std::string::npos) << response->body();
      EXPECT_EQ(response->header("x-should-retry"), "");
      EXPECT_EQ(gw.metrics().upstream_retries.Value({Label(kind)}), 2.0);
    }
  }
}

TEST(Retries, ExhaustedRetriesGiveTodaysAnswerAndStopTheSdkRetrying) {
  for (const Route route : kRoutes) {
    SCOPED_TRACE(Name(route));
    FakeUpstream upstream([](const RecordedRequest&) {
      return ErrorResponse(529, "overloaded_error", "Overloaded");
    });
    TestGateway gw(RetryConfig(upstream));
    auto response = Send(gw, route);
    ASSERT_TRUE(response);
    EXPECT_EQ(upstream.requests().size(), 3U) << "1 + num_retries attempts";
    EXPECT_EQ(response->header("x-should-retry"), "false");
    EXPECT_EQ(gw.metrics().upstream_retries.Value({"overloaded"}), 2.0);
    if (route == Route::kMessages || route == Route::kMessagesStream) {
      EXPECT_EQ(response->status, 529);  // Anthropic's status and body, as sent
      EXPECT_EQ(json::parse(response->body())["error"]["type"], "overloaded_error");
    } else {
      EXPECT_EQ(response->status, 503);  // docs/anthropic-notes.md#error-mapping
    }
  }
}

TEST(Retries, AClientErrorIsNeverRetried) {
  for (const Route route : kRoutes) {
    SCOPED_TRACE(Name(route));
    FakeUpstream upstream([](const RecordedRequest&) {
      return ErrorResponse(400, "invalid_request_error", "messages: field required");
    });
    TestGateway gw(RetryConfig(upstream));
    auto response = Send(gw, route);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    EXPECT_EQ(upstream.requests().size(), 1U);
    EXPECT_EQ(response->header("x-should-retry"), "");
  }
}

TEST(Retries, AFailureAfterTheFirstByteIsNotRetried) {
  for (const Route route : {Route::kChatStream, Route::kMessagesStream}) {
    SCOPED_TRACE(Name(route));
    FakeUpstream upstream([](const RecordedRequest& request) {
      // 11 events; the fake sends the first half (message_start, block start, ping, two deltas:
      // content reached the client), then closes without the rest. A clean close, not a reset:
      // a reset may destroy bytes the gateway has not read yet, and a stream cut before its
      // content is rightly retried.
      auto response = SseResponse(TextStreamTranscript(request.JsonBody().value("model", ""),
                                                       {"a", "b", "c", "d", "e"}, 1, 1));
      response.fault = Fault::kTruncateCleanly;
      return response;
    });
    TestGateway gw(RetryConfig(upstream));
    auto response = Send(gw, route);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(upstream.requests().size(), 1U);
    EXPECT_NE(response->body().find("error"), std::string::npos) << response->body();
  }
}

TEST(Retries, AFlakyUpstreamCostsNoFailedRequest) {
  // Every other first attempt is a 529: with retries, every request succeeds.
  std::atomic<int> seen{0};
  FakeUpstream upstream([&](const RecordedRequest& request) {
    return ++seen % 2 == 1 ? ErrorResponse(529, "overloaded_error", "Overloaded")
                           : Success(request);
  });
  TestGateway gw(RetryConfig(upstream));
  for (int i = 0; i < 8; ++i) {
    const Route route = kRoutes[static_cast<std::size_t>(i) % kRoutes.size()];
    auto response = Send(gw, route);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << Name(route) << ": " << response->body();
  }
  EXPECT_EQ(upstream.requests().size(), 16U);
}

TEST(Retries, TheResponsesRouteRetriesToo) {
  std::atomic<int> seen{0};
  FakeUpstream upstream([&](const RecordedRequest& request) {
    return ++seen == 1 ? SseResponse({ErrorEvent("overloaded_error")}) : Success(request);
  });
  TestGateway gw(RetryConfig(upstream));
  auto response = Send(gw, Route::kResponsesStream);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(upstream.requests().size(), 2U);
  EXPECT_NE(response->body().find("response.completed"), std::string::npos) << response->body();
  EXPECT_EQ(response->body().find("overloaded"), std::string::npos) << response->body();
}

TEST(Retries, TheTimeBudgetEndsTheRetries) {
  // retry-after-ms 1200 with a 2 s budget: the first retry fits, the second would end after it.
  FakeUpstream upstream([](const RecordedRequest&) {
    auto response = ErrorResponse(529, "overloaded_error", "Overloaded");
    response.headers.emplace_back("retry-after-ms", "1200");
    return response;
  });
  auto config = RetryConfig(upstream);
  config.retries.num_retries = 5;
  config.retries.budget = 2s;
  TestGateway gw(config);
  auto response = Send(gw, Route::kChat);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(upstream.requests().size(), 2U);
  EXPECT_EQ(response->header("x-should-retry"), "false");
}

TEST(Retries, OffWhenNumRetriesIsZero) {
  FakeUpstream upstream(
      [](const RecordedRequest&) { return ErrorResponse(529, "overloaded_error", "Overloaded"); });
  auto config = RetryConfig(upstream);
  config.retries.num_retries = 0;
  TestGateway gw(config);
  auto response = Send(gw, Route::kChatStream);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(response->header("x-should-retry"), "");
}

TEST(Retries, AClientThatLeavesDuringTheWaitEndsIt) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto response = ErrorResponse(529, "overloaded_error", "Overloaded");
    response.headers.emplace_back("retry-after-ms", "8000");
    return response;
  });
  TestGateway gw(RetryConfig(upstream));
  {
    TestClient client(gw.port());
    const std::string body = R"({"model":"sonnet","messages":[{"role":"user","content":"hi"}]})";
    client.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                   kTestMasterKey + "\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body);
    ASSERT_TRUE(upstream.WaitForRequests(1, 10s));
    ASSERT_TRUE(
        PollUntil([&] { return gw.metrics().upstream_retries.Value({"overloaded"}) == 1.0; }, 10s));
  }  // the client hangs up during the 8 s wait
  EXPECT_TRUE(PollUntil([&] { return gw.metrics().in_flight.Value({}) == 0; }, 5s))
      << "the wait was not cancelled";
  EXPECT_EQ(upstream.requests().size(), 1U);
}

TEST(Retries, ARefusedConnectionAndABrokenHandshakeAreRetried) {
  using ConnectionFault = FakeUpstream::ConnectionFault;
  for (const auto& [fault, label] : {std::pair{ConnectionFault::kRefuse, "connection"},
                                     std::pair{ConnectionFault::kTlsGarbage, "tls"}}) {
    SCOPED_TRACE(label);
    FakeUpstream upstream(Success);
    upstream.SetConnectionFault(fault);
    auto config = RetryConfig(upstream);
    // Long enough to heal the fake between two attempts, however loaded the machine.
    config.retries.num_retries = 5;
    config.retries.initial_backoff = 300ms;
    config.retries.max_backoff = 300ms;
    config.retries.budget = 30s;
    TestGateway gw(config);
    auto answer = std::async(std::launch::async, [&gw] { return Send(gw, Route::kChat); });
    const std::string reason = label;  // clang 14 cannot capture a structured binding
    ASSERT_TRUE(
        PollUntil([&] { return gw.metrics().upstream_retries.Value({reason}) >= 1.0; }, 20s));
    upstream.SetConnectionFault(ConnectionFault::kNone);
    auto response = answer.get();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body();
    EXPECT_EQ(upstream.requests().size(), 1U) << "only the healed attempt reached HTTP";
  }
}

TEST(Retries, AFirstByteTimeoutIsNotRetried) {
  // The request may be running upstream (and billed): sending it again could run it twice.
  FakeUpstream upstream([](const RecordedRequest& request) {
    auto response = Success(request);
    response.delay_before_headers = 5s;
    return response;
  });
  auto config = RetryConfig(upstream);
  config.upstream.first_byte_timeout = 300ms;
  TestGateway gw(config);
  auto response = Send(gw, Route::kChat);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 504);
  EXPECT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(response->header("x-should-retry"), "");
}

// ---- fallbacks -------------------------------------------------------------------------------

config::Config FallbackConfig(const FakeUpstream& upstream) {
  auto config = RetryConfig(upstream);
  config.retries.fallbacks = {{"opus", {"sonnet"}}};
  config.retries.context_window_fallbacks = {{"sonnet", {"haiku"}}};
  return config;
}

std::string ModelOf(const RecordedRequest& request) {
  return request.JsonBody().value("model", "");
}

// The `model` the client is told: in the JSON body, or in the stream's events.
bool Names(const TestResponse& response, const std::string& model) {
  return response.body().find("\"model\":\"" + model + "\"") != std::string::npos;
}

TEST(Fallbacks, AModelThatStaysOverloadedGivesWayToItsFallback) {
  for (const Route route : kRoutes) {
    SCOPED_TRACE(Name(route));
    FakeUpstream upstream([](const RecordedRequest& request) {
      return ModelOf(request) == "claude-opus-5-5"
                 ? ErrorResponse(529, "overloaded_error", "Overloaded")
                 : Success(request);
    });
    TestGateway gw(FallbackConfig(upstream));
    auto response = Send(gw, route, "opus");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body();
    const auto requests = upstream.requests();
    ASSERT_EQ(requests.size(), 4U) << "3 attempts at opus, then sonnet";
    EXPECT_EQ(ModelOf(requests[2]), "claude-opus-5-5");
    EXPECT_EQ(ModelOf(requests[3]), "claude-sonnet-5-5");
    const bool anthropic = route == Route::kMessages || route == Route::kMessagesStream;
    // The OpenAI routes name the fallback as configured; Anthropic's body names its id.
    EXPECT_TRUE(Names(*response, anthropic ? "claude-sonnet-5-5" : "sonnet")) << response->body();
    EXPECT_FALSE(Names(*response, "opus")) << response->body();
    EXPECT_EQ(gw.metrics().model_fallbacks.Value({"overloaded"}), 1.0);
  }
}

TEST(Fallbacks, APlanRefusalFallsBackAtOnce) {
  for (const Route route : {Route::kChat, Route::kMessagesStream}) {
    SCOPED_TRACE(Name(route));
    FakeUpstream upstream([](const RecordedRequest& request) {
      if (ModelOf(request) != "claude-opus-5-5") {
        return Success(request);
      }
      auto response = ErrorResponse(429, "rate_limit_error", "limit reached");
      response.headers.emplace_back("anthropic-ratelimit-unified-status", "rejected");
      response.headers.emplace_back("retry-after", "1");
      return response;
    });
    TestGateway gw(FallbackConfig(upstream));
    auto response = Send(gw, route, "opus");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body();
    ASSERT_EQ(upstream.requests().size(), 2U);
    EXPECT_EQ(ModelOf(upstream.requests()[1]), "claude-sonnet-5-5");
  }
}

TEST(Fallbacks, APromptTooLongGoesToTheContextWindowFallback) {
  for (const Route route : {Route::kChatStream, Route::kMessages}) {
    SCOPED_TRACE(Name(route));
    FakeUpstream upstream([](const RecordedRequest& request) {
      if (ModelOf(request) == "claude-sonnet-5-5") {
        return ErrorResponse(400, "invalid_request_error",
                             "prompt is too long: 210000 tokens > 200000 maximum");
      }
      return Success(request);
    });
    TestGateway gw(FallbackConfig(upstream));
    auto response = Send(gw, route, "sonnet");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body();
    ASSERT_EQ(upstream.requests().size(), 2U);
    EXPECT_EQ(ModelOf(upstream.requests()[1]), "claude-haiku-5-5");
    EXPECT_TRUE(Names(*response, route == Route::kMessages ? "claude-haiku-5-5" : "haiku"))
        << response->body();
  }
}

TEST(Fallbacks, WhenTheFallbackFailsTooTheClientGetsItsError) {
  FakeUpstream upstream(
      [](const RecordedRequest&) { return ErrorResponse(529, "overloaded_error", "Overloaded"); });
  TestGateway gw(FallbackConfig(upstream));
  auto response = Send(gw, Route::kMessages, "opus");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 529);
  EXPECT_EQ(upstream.requests().size(), 6U) << "3 attempts per model";
  EXPECT_EQ(response->header("x-should-retry"), "false");
}

}  // namespace
}  // namespace claudegate::testing
