// Fault injection: every way the upstream can fail (refusing, resetting, breaking TLS, stalling,
// truncating, sending garbage or oversized events) against every route family. For each pair the
// client must get a clear error in its API's shape — a status while the gateway has not answered
// yet, an error event ending the stream once it has — and the next request on the same gateway
// must succeed: the upstream pool recovers. Each case runs its own fake upstream and gateway, with
// short timeouts so the whole table runs in seconds.
#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
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
using ConnectionFault = FakeUpstream::ConnectionFault;
using Fault = ScriptedResponse::Fault;

constexpr std::string_view kModel = "claude-sonnet-5-5";
// The suite's cap on one upstream SSE event, and an event well past it.
constexpr std::size_t kMaxEventBytes = 1024U * 1024U;
constexpr std::size_t kHugeEventBytes = 3U * 1024U * 1024U;
// Longer than any gateway timeout below; the fake's timers are cancelled when the gateway leaves.
constexpr auto kForever = 30s;

enum class Route { kChat, kChatStream, kMessages, kMessagesStream, kResponses, kResponsesStream };
constexpr std::array kRoutes = {Route::kChat,      Route::kChatStream,
                                Route::kMessages,  Route::kMessagesStream,
                                Route::kResponses, Route::kResponsesStream};

std::string RouteName(Route route) {
  switch (route) {
    case Route::kChat:
      return "Chat";
    case Route::kChatStream:
      return "ChatStream";
    case Route::kMessages:
      return "Messages";
    case Route::kMessagesStream:
      return "MessagesStream";
    case Route::kResponses:
      return "Responses";
    case Route::kResponsesStream:
      return "ResponsesStream";
  }
  return "?";
}

bool IsAnthropic(Route route) {
  return route == Route::kMessages || route == Route::kMessagesStream;
}

// What the client must see when the fault hits.
enum class Expect {
  kNotApplicable,   // the fault cannot happen on this route
  kBadGateway,      // 502 in the route's error shape
  kGatewayTimeout,  // 504 in the route's error shape
  kStreamError,     // 200 already sent, then an error event that ends the stream
  kStreamTimeout,   // same, the error saying it was a timeout
  kRelayedAsSent,   // /v1/messages relays the upstream bytes unchanged; it does not parse events
};

struct PerRoute {
  Expect chat, chat_stream, messages, messages_stream, responses, responses_stream;

  [[nodiscard]] Expect For(Route route) const {
    const std::array all = {chat,      chat_stream,     messages, messages_stream,
                            responses, responses_stream};
    return all[static_cast<std::size_t>(route)];
  }
};

// A fault before any response header: the gateway has not answered on any route yet.
constexpr PerRoute Everywhere(Expect expect) {
  return {expect, expect, expect, expect, expect, expect};
}

// A fault after the upstream headers: streaming routes already answered 200, the others not.
constexpr PerRoute AfterHeaders(Expect status, Expect in_stream) {
  return {status, in_stream, status, in_stream, status, in_stream};
}

// ---- Upstream answers ------------------------------------------------------------------------

// `stream`: the upstream request asked for a stream (the OpenAI routes always do).
ScriptedResponse Healthy(bool stream) {
  if (stream) {
    return SseResponse(TextStreamTranscript(std::string(kModel), {"o", "k"}, 3, 2));
  }
  return JsonResponse(TextMessage(std::string(kModel), "ok", 3, 2));
}

ScriptedResponse WithFault(bool stream, Fault fault) {
  auto response = Healthy(stream);
  response.fault = fault;
  return response;
}

// The first event arrives, then silence. A JSON body is sent in two chunks to stall the same way.
ScriptedResponse StallsMidStream(bool stream) {
  auto response = Healthy(stream);
  if (!stream) {
    const std::string body = std::move(response.body);
    response.body.clear();
    response.chunks = {body.substr(0, body.size() / 2), body.substr(body.size() / 2)};
  }
  response.delay_between_chunks = kForever;
  return response;
}

// Lines an event-stream parser must survive, and no valid event at all.
ScriptedResponse MalformedSse(bool /*stream*/) {
  return SseResponse({
      "this line is not a field\n",
      "event: content_block_delta\n\n",  // an event without data
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":\n\n",  // not JSON
      "data: [1,2,\n\n",
      ": a comment\n\n",
  });
}

ScriptedResponse InvalidJsonBody(bool /*stream*/) {
  ScriptedResponse response;
  response.headers.emplace_back("content-type", "application/json");
  response.body = R"({"id":"msg_01","type":"message","content":[{"type":"text","te)";
  return response;
}

// One content_block_delta whose `data:` line is several MiB.
ScriptedResponse HugeEvent(bool stream) {
  const std::string text(kHugeEventBytes, 'x');
  if (stream) {
    return SseResponse(TextStreamTranscript(std::string(kModel), {text}, 3, 2));
  }
  return JsonResponse(TextMessage(std::string(kModel), text, 3, 2));
}

struct FaultCase {
  std::string name;
  ConnectionFault connection = ConnectionFault::kNone;
  std::function<ScriptedResponse(bool stream)> respond;  // the faulty answer; null: Healthy
  PerRoute expect;
};

std::vector<FaultCase> FaultCases() {
  const auto fault = [](Fault f) { return [f](bool stream) { return WithFault(stream, f); }; };
  const auto slow_headers = [](bool stream) {
    auto response = Healthy(stream);
    response.delay_before_headers = kForever;
    return response;
  };
  using E = Expect;
  return {
      {"ConnectionRefused", ConnectionFault::kRefuse, nullptr, Everywhere(E::kBadGateway)},
      {"TlsGarbageInHandshake", ConnectionFault::kTlsGarbage, nullptr, Everywhere(E::kBadGateway)},
      {"TlsClosedInHandshake", ConnectionFault::kTlsCloseInHandshake, nullptr,
       Everywhere(E::kBadGateway)},
      {"TlsHandshakeNeverAnswered", ConnectionFault::kTlsSilentHandshake, nullptr,
       Everywhere(E::kGatewayTimeout)},
      {"UntrustedCertificate", ConnectionFault::kUntrustedCertificate, nullptr,
       Everywhere(E::kBadGateway)},
      {"WrongHostNameCertificate", ConnectionFault::kWrongHostCertificate, nullptr,
       Everywhere(E::kBadGateway)},
      {"CloseBeforeHeaders", {}, fault(Fault::kCloseBeforeHeaders), Everywhere(E::kBadGateway)},
      {"ResetBeforeHeaders", {}, fault(Fault::kResetBeforeHeaders), Everywhere(E::kBadGateway)},
      {"SlowHeaders", {}, slow_headers, Everywhere(E::kGatewayTimeout)},
      {"NeverAnswers", {}, fault(Fault::kNeverRespond), Everywhere(E::kGatewayTimeout)},
      {"CloseAfterHeaders",
       {},
       fault(Fault::kCloseAfterHeaders),
       AfterHeaders(E::kBadGateway, E::kStreamError)},
      {"ResetAfterHeaders",
       {},
       fault(Fault::kResetAfterHeaders),
       AfterHeaders(E::kBadGateway, E::kStreamError)},
      {"ResetMidStream",
       {},
       fault(Fault::kResetMidStream),
       AfterHeaders(E::kBadGateway, E::kStreamError)},
      {"TruncatedBodyCleanClose",
       {},
       fault(Fault::kTruncateCleanly),
       AfterHeaders(E::kBadGateway, E::kStreamError)},
      {"StallsMidStream", {}, StallsMidStream, AfterHeaders(E::kGatewayTimeout, E::kStreamTimeout)},
      // The upstream answers the same garbage whatever was asked; /v1/messages relays a stream
      // without parsing it, so its client judges the events itself.
      {"MalformedSse",
       {},
       MalformedSse,
       {E::kBadGateway, E::kStreamError, E::kNotApplicable, E::kRelayedAsSent, E::kBadGateway,
        E::kStreamError}},
      // A 200 whose JSON is cut: the relay must not pass it on as a success.
      {"InvalidJsonBody",
       {},
       InvalidJsonBody,
       {E::kBadGateway, E::kStreamError, E::kBadGateway, E::kBadGateway, E::kBadGateway,
        E::kStreamError}},
      // Over the suite's cap on the translating routes; /v1/messages forwards the bytes as they
      // come and never holds a whole event.
      {"HugeSseEvent",
       {},
       HugeEvent,
       {E::kBadGateway, E::kStreamError, E::kRelayedAsSent, E::kRelayedAsSent, E::kBadGateway,
        E::kStreamError}},
  };
}

// Short timeouts so that every timeout case costs little, yet long enough that a healthy request
// under ThreadSanitizer on a loaded 2-core CI machine never hits them (300 ms did).
config::Config FaultConfig(const FakeUpstream& upstream) {
  auto config = ConfigFor(upstream);
  config.upstream.connect_timeout = 2s;
  config.upstream.tls_timeout = 1500ms;
  config.upstream.first_byte_timeout = 1500ms;
  config.upstream.stream_idle_timeout = 2000ms;
  config.upstream.heartbeat_interval = 100ms;
  config.upstream.max_sse_event_bytes = kMaxEventBytes;
  return config;
}

// ---- Client side -----------------------------------------------------------------------------

std::optional<TestResponse> Send(std::uint16_t port, Route route) {
  const std::string stream = route == Route::kChatStream || route == Route::kMessagesStream ||
                                     route == Route::kResponsesStream
                                 ? "true"
                                 : "false";
  switch (route) {
    case Route::kChat:
    case Route::kChatStream:
      return Fetch(port, http::verb::post, "/v1/chat/completions", kTestMasterKey,
                   R"({"model":"sonnet","messages":[{"role":"user","content":"Hi"}],"stream":)" +
                       stream + "}");
    case Route::kMessages:
    case Route::kMessagesStream:
      return Fetch(port, http::verb::post, "/v1/messages", kTestMasterKey,
                   R"({"model":"sonnet","max_tokens":16,"messages":[{"role":"user",)"
                   R"("content":"Hi"}],"stream":)" +
                       stream + "}",
                   {{"anthropic-version", "2023-06-01"}});
    case Route::kResponses:
    case Route::kResponsesStream:
      return Fetch(port, http::verb::post, "/v1/responses", kTestMasterKey,
                   R"({"model":"sonnet","input":"Hi","stream":)" + stream + "}");
  }
  return std::nullopt;
}

struct Frame {
  std::string event;
  std::string data;
};

// The events of an SSE body in order (comments skipped, data kept raw).
std::vector<Frame> Frames(const std::string& body) {
  std::vector<Frame> frames;
  std::string event;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto end = std::min(body.find('\n', pos), body.size());
    const std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("event: ")) {
      event = line.substr(7);
    } else if (line.starts_with("data: ")) {
      frames.push_back({event, line.substr(6)});
      event.clear();
    }
  }
  return frames;
}

json ParseObject(const std::string& text) {
  auto parsed = json::parse(text, nullptr, false);
  return parsed.is_object() ? parsed : json();
}

void ExpectHealthy(const std::optional<TestResponse>& response, Route route) {
  ASSERT_TRUE(response) << "no answer";
  ASSERT_EQ(response->status, 200) << response->body().substr(0, 500);
  const auto frames = Frames(response->body());
  switch (route) {
    case Route::kChat:
      EXPECT_EQ(ParseObject(response->body())["choices"][0]["message"]["content"], "ok");
      break;
    case Route::kChatStream: {
      ASSERT_FALSE(frames.empty());
      EXPECT_EQ(frames.back().data, "[DONE]");
      std::string text;
      for (const auto& frame : frames) {
        const auto chunk = ParseObject(frame.data);
        if (chunk.contains("choices") && !chunk["choices"].empty()) {
          text += chunk["choices"][0]["delta"].value("content", "");
        }
      }
      EXPECT_EQ(text, "ok");
      break;
    }
    case Route::kMessages:
      EXPECT_EQ(ParseObject(response->body())["content"][0]["text"], "ok");
      break;
    case Route::kMessagesStream:
      ASSERT_FALSE(frames.empty());
      EXPECT_EQ(frames.back().event, "message_stop");
      break;
    case Route::kResponses: {
      auto body = ParseObject(response->body());
      EXPECT_EQ(body["status"], "completed");
      EXPECT_EQ(body["output"][0]["content"][0]["text"], "ok");
      break;
    }
    case Route::kResponsesStream:
      ASSERT_FALSE(frames.empty());
      EXPECT_EQ(frames.back().event, "response.completed");
      break;
  }
}

// {"type","message"} of an Anthropic error, the type as the gateway's table gives it.
void ExpectAnthropicError(const json& error, bool timeout) {
  ASSERT_TRUE(error.is_object()) << error.dump();
  EXPECT_EQ(error.value("type", ""), timeout ? "timeout_error" : "api_error") << error.dump();
  EXPECT_FALSE(error.value("message", "").empty()) << error.dump();
}

void ExpectErrorReply(const TestResponse& response, Route route, bool timeout) {
  EXPECT_EQ(response.status, timeout ? 504U : 502U) << response.body().substr(0, 500);
  EXPECT_TRUE(response.header("content-type").starts_with("application/json"));
  auto body = ParseObject(response.body());
  ASSERT_TRUE(body.is_object()) << response.body().substr(0, 500);
  if (IsAnthropic(route)) {
    EXPECT_EQ(body["type"], "error");
    ExpectAnthropicError(body["error"], timeout);
    return;
  }
  const auto& error = body["error"];
  ASSERT_TRUE(error.is_object()) << body.dump();
  EXPECT_FALSE(error.value("message", "").empty()) << body.dump();
  EXPECT_EQ(error.value("type", ""), "server_error") << body.dump();
  EXPECT_TRUE(error.contains("param") && error.contains("code")) << body.dump();
}

void ExpectStreamError(const TestResponse& response, Route route, bool timeout) {
  EXPECT_EQ(response.status, 200U);
  EXPECT_TRUE(response.header("content-type").starts_with("text/event-stream"));
  const auto frames = Frames(response.body());
  ASSERT_FALSE(frames.empty()) << response.body().substr(0, 500);
  switch (route) {
    case Route::kChatStream: {
      // An error chunk, then [DONE], then nothing.
      ASSERT_GE(frames.size(), 2U);
      EXPECT_EQ(frames.back().data, "[DONE]");
      auto error = ParseObject(frames[frames.size() - 2].data)["error"];
      ASSERT_TRUE(error.is_object()) << frames[frames.size() - 2].data;
      EXPECT_FALSE(error.value("message", "").empty());
      if (timeout) {
        EXPECT_EQ(error["type"], "timeout_error") << error.dump();
      }
      for (const auto& frame : frames) {
        EXPECT_EQ(ParseObject(frame.data)["choices"][0]["finish_reason"], json()) << frame.data;
      }
      break;
    }
    case Route::kMessagesStream: {
      EXPECT_EQ(frames.back().event, "error");
      auto body = ParseObject(frames.back().data);
      EXPECT_EQ(body["type"], "error") << frames.back().data;
      ExpectAnthropicError(body["error"], timeout);
      break;
    }
    case Route::kResponsesStream: {
      ASSERT_GE(frames.size(), 2U);
      EXPECT_EQ(frames.back().event, "response.failed");
      EXPECT_EQ(ParseObject(frames.back().data)["response"]["status"], "failed");
      const auto& error = frames[frames.size() - 2];
      EXPECT_EQ(error.event, "error");
      auto body = ParseObject(error.data);
      EXPECT_FALSE(body.value("message", "").empty()) << error.data;
      if (timeout) {
        EXPECT_EQ(body["code"], "timeout") << error.data;
      }
      break;
    }
    default:
      ADD_FAILURE() << "not a streaming route";
  }
}

std::string WithoutHeartbeats(std::string body) {
  constexpr std::string_view kHeartbeat = ": keep-alive\n\n";
  for (auto at = body.find(kHeartbeat); at != std::string::npos; at = body.find(kHeartbeat, at)) {
    body.erase(at, kHeartbeat.size());
  }
  return body;
}

std::string Bytes(const ScriptedResponse& response) {
  if (response.chunks.empty()) {
    return response.body;
  }
  std::string all;
  for (const auto& chunk : response.chunks) {
    all += chunk;
  }
  return all;
}

// ---- The table -------------------------------------------------------------------------------

struct FaultParam {
  std::size_t fault_index;
  Route route;
};

std::vector<FaultParam> AllFaultParams() {
  std::vector<FaultParam> params;
  const auto cases = FaultCases();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    for (const Route route : kRoutes) {
      if (cases[i].expect.For(route) != Expect::kNotApplicable) {
        params.push_back({i, route});
      }
    }
  }
  return params;
}

class UpstreamFaultTest : public ::testing::TestWithParam<FaultParam> {};

TEST_P(UpstreamFaultTest, AnswersInTheRouteShapeAndRecovers) {
  const FaultCase fault = FaultCases().at(GetParam().fault_index);
  const Route route = GetParam().route;
  const Expect expect = fault.expect.For(route);
  // Built once so that a relayed answer can be compared byte for byte.
  const auto respond = fault.respond ? fault.respond : Healthy;
  const ScriptedResponse faulty_stream = respond(true);
  const ScriptedResponse faulty_json = respond(false);

  std::atomic<bool> faulty{false};
  FakeUpstream upstream([&](const RecordedRequest& request) {
    const bool stream = request.JsonBody().value("stream", false);
    if (!faulty) {
      return Healthy(stream);
    }
    return stream ? faulty_stream : faulty_json;
  });
  TestGateway gw(FaultConfig(upstream));

  // A first answer leaves a connection in the gateway's pool; the fault must get past it.
  ExpectHealthy(Send(gw.port(), route), route);
  faulty = true;
  if (fault.connection != ConnectionFault::kNone) {
    upstream.SetConnectionFault(fault.connection);
    ASSERT_TRUE(upstream.DropConnections(5s));
  }

  const auto response = Send(gw.port(), route);
  ASSERT_TRUE(response) << "the gateway did not answer";
  switch (expect) {
    case Expect::kBadGateway:
    case Expect::kGatewayTimeout:
      ExpectErrorReply(*response, route, expect == Expect::kGatewayTimeout);
      break;
    case Expect::kStreamError:
    case Expect::kStreamTimeout:
      ExpectStreamError(*response, route, expect == Expect::kStreamTimeout);
      break;
    case Expect::kRelayedAsSent: {
      EXPECT_EQ(response->status, 200U);
      const std::string sent = Bytes(route == Route::kMessagesStream ? faulty_stream : faulty_json);
      // /v1/messages streams get heartbeat comments between events during silences since the
      // exchange/pump refactor (docs/architecture.md); on a loaded machine a pause between two
      // of the fake's writes can outlast this suite's 100 ms interval. They are not upstream
      // bytes, so they are left out of the comparison.
      EXPECT_TRUE(WithoutHeartbeats(response->body()) == sent)
          << "relayed " << response->body().size() << " bytes of " << sent.size();
      break;
    }
    case Expect::kNotApplicable:
      break;
  }
  if (fault.connection == ConnectionFault::kNone &&
      (expect == Expect::kGatewayTimeout || expect == Expect::kStreamTimeout)) {
    // Giving up means closing the upstream request, not leaving it running.
    EXPECT_TRUE(upstream.WaitForClientDisconnect(5s));
  }

  faulty = false;
  if (fault.connection != ConnectionFault::kNone) {
    upstream.SetConnectionFault(ConnectionFault::kNone);
  }
  ExpectHealthy(Send(gw.port(), route), route);
}

INSTANTIATE_TEST_SUITE_P(UpstreamFaults, UpstreamFaultTest, ::testing::ValuesIn(AllFaultParams()),
                         [](const ::testing::TestParamInfo<FaultParam>& param_info) {
                           return FaultCases().at(param_info.param.fault_index).name + "_" +
                                  RouteName(param_info.param.route);
                         });

// ---- Tolerance: what must not count as a fault -----------------------------------------------

TEST(UpstreamFaults, IgnoresWhatTheEventStreamSpecSaysToIgnore) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto transcript = TextStreamTranscript(std::string(kModel), {"o", "k"}, 3, 2);
    // Unknown fields, comments, events without data and unknown events whose data is not JSON.
    transcript.insert(transcript.begin() + 1, "retry: 10\nnot a field\n: comment\n\n");
    transcript.insert(transcript.begin() + 3, "event: content_block_delta\n\n");
    transcript.insert(transcript.begin() + 4, "event: some_future_event\ndata: <html>\n\n");
    return SseResponse(transcript);
  });
  TestGateway gw(FaultConfig(upstream));
  for (const Route route :
       {Route::kChat, Route::kChatStream, Route::kResponses, Route::kResponsesStream}) {
    SCOPED_TRACE(RouteName(route));
    ExpectHealthy(Send(gw.port(), route), route);
  }
}

TEST(UpstreamFaults, TranslatesAnEventOfSeveralMiBUnderTheDefaultCap) {
  FakeUpstream upstream([](const RecordedRequest&) { return HugeEvent(true); });
  auto config = FaultConfig(upstream);
  config.upstream.max_sse_event_bytes = config::Upstream{}.max_sse_event_bytes;
  ASSERT_GT(config.upstream.max_sse_event_bytes, 2 * kHugeEventBytes);
  // Not a timeout case: a 3 MiB event takes a while to translate under the sanitizers.
  config.upstream.first_byte_timeout = 30s;
  config.upstream.stream_idle_timeout = 30s;
  TestGateway gw(std::move(config));
  const auto response = Send(gw.port(), Route::kChat);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200U);
  const auto content = ParseObject(response->body())["choices"][0]["message"]["content"];
  ASSERT_TRUE(content.is_string());
  EXPECT_EQ(content.get_ref<const std::string&>(), std::string(kHugeEventBytes, 'x'));
}

}  // namespace
}  // namespace claudegate::testing
