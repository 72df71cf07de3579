// POST /v1/chat/completions through the real gateway to a scripted fake Anthropic upstream over
// TLS with verification on (a test CA made at test time). Each test asserts the upstream request
// as sent and the client response as received.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_credentials.hpp"
#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kOAuthToken = "sk-ant-oat01-test-token";

ScriptedResponse StreamOk(std::vector<std::string> chunks) {
  ScriptedResponse response;
  response.headers.emplace_back("content-type", "text/event-stream");
  response.headers.emplace_back("request-id", "req_upstream_123");
  response.chunks = std::move(chunks);
  return response;
}

ScriptedResponse UpstreamFailure(unsigned status, const std::string& type,
                                 const std::string& message) {
  ScriptedResponse response;
  response.status = status;
  response.headers.emplace_back("content-type", "application/json");
  response.headers.emplace_back("request-id", "req_upstream_err");
  response.body = AnthropicError(type, message);
  return response;
}

std::string ChatBody(bool stream, const std::string& extra = "") {
  return R"({"model":"sonnet","messages":[{"role":"system","content":"Be brief."},)"
         R"({"role":"user","content":"Hello"}],"stream":)" +
         std::string(stream ? "true" : "false") + extra + "}";
}

std::optional<TestResponse> PostChat(std::uint16_t port, const std::string& body) {
  return Fetch(port, http::verb::post, "/v1/chat/completions", kTestMasterKey, body);
}

// The `data:` payloads of an SSE body, in order.
std::vector<std::string> DataLines(const std::string& body) {
  std::vector<std::string> data;
  std::size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const auto end = body.find('\n', pos);
    data.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return data;
}

TEST(ChatCompletions, TranslatesANonStreamRequestAndAnswer) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"Hi", " there"}, 12, 3));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostChat(gw.port(), ChatBody(false));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body();
  auto body = json::parse(response->body());
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["model"], "sonnet");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hi there");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 12);
  EXPECT_EQ(body["usage"]["completion_tokens"], 3);
  EXPECT_EQ(response->header("request-id"), "req_upstream_123");

  ASSERT_EQ(upstream.requests().size(), 1U);
  const auto sent = upstream.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/v1/messages");
  EXPECT_EQ(sent.header("authorization"), "Bearer " + std::string(kOAuthToken));
  EXPECT_EQ(sent.header("x-api-key"), "");
  EXPECT_NE(sent.header("anthropic-beta").find("oauth-2025-04-20"), std::string::npos);
  EXPECT_EQ(sent.header("anthropic-version"), "2023-06-01");
  EXPECT_TRUE(sent.header("user-agent").starts_with("claudegate/"));
  EXPECT_EQ(sent.body.find(kTestMasterKey), std::string::npos);
  for (const auto& field : sent.headers) {
    EXPECT_EQ(std::string(field.value()).find(kTestMasterKey), std::string::npos);
  }
  auto sent_body = sent.JsonBody();
  EXPECT_EQ(sent_body["model"], "claude-sonnet-5-5");
  EXPECT_EQ(sent_body["system"][0]["text"], "Be brief.");
  EXPECT_EQ(sent_body["messages"].size(), 1U);
  EXPECT_TRUE(sent_body["max_tokens"].is_number());
}

TEST(ChatCompletions, StreamsChunksThenUsageThenDone) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"Hé", "llo ", "wörld"}, 7, 4));
  });
  TestGateway gw(ConfigFor(upstream));
  auto response =
      PostChat(gw.port(), ChatBody(true, R"(,"stream_options":{"include_usage":true})"));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  EXPECT_TRUE(response->header("content-type").starts_with("text/event-stream"));
  const auto data = DataLines(response->body());
  ASSERT_GE(data.size(), 4U);
  EXPECT_EQ(data.back(), "[DONE]");
  std::string text;
  bool saw_role = false;
  bool saw_finish = false;
  json usage;
  for (std::size_t i = 0; i + 1 < data.size(); ++i) {
    auto chunk = json::parse(data[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    if (!chunk["choices"].empty()) {
      const auto& delta = chunk["choices"][0]["delta"];
      saw_role |= delta.contains("role");
      text += delta.value("content", "");
      saw_finish |= chunk["choices"][0]["finish_reason"] == "stop";
    } else {
      usage = chunk["usage"];
    }
  }
  EXPECT_TRUE(saw_role);
  EXPECT_TRUE(saw_finish);
  EXPECT_EQ(text, "Héllo wörld");
  EXPECT_EQ(usage["prompt_tokens"], 7);
  EXPECT_EQ(usage["completion_tokens"], 4);
}

TEST(ChatCompletions, ReusesOneUpstreamConnectionAcrossRequests) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  });
  // Idle upstream connections are kept per io thread (each thread runs its own io_context and a
  // socket never changes threads), so one thread makes every request find the same connection.
  TestGateway gw(ConfigFor(upstream), std::shared_ptr<credentials::CredentialSource>(), 1);
  for (int i = 0; i < 3; ++i) {
    auto response = PostChat(gw.port(), ChatBody(i % 2 == 0));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(upstream.connections_accepted(), 1U);
  EXPECT_EQ(upstream.tls_handshakes(), 1U);
}

TEST(ChatCompletions, KeepsAtMostOneIdleUpstreamConnectionPerIoThread) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));  // two io threads; client connections dealt round-robin
  for (int i = 0; i < 6; ++i) {
    auto response = PostChat(gw.port(), ChatBody(i % 2 == 0));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_LE(upstream.connections_accepted(), 2U);
}

TEST(ChatCompletions, RetriesOnceWhenAPooledConnectionWasClosed) {
  std::atomic<int> calls{0};
  FakeUpstream upstream([&calls](const RecordedRequest&) {
    auto response = StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
    // The first answer closes its connection, leaving a stale pooled connection behind... unless
    // the gateway notices; either way the second request must succeed.
    response.close_connection = calls++ == 0;
    return response;
  });
  TestGateway gw(ConfigFor(upstream));
  for (int i = 0; i < 2; ++i) {
    auto response = PostChat(gw.port(), ChatBody(false));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body();
  }
}

struct ErrorCase {
  unsigned upstream_status;
  std::string upstream_type;
  unsigned expected_status;
  std::string expected_type;
};

TEST(ChatCompletions, MapsEveryUpstreamErrorClass) {
  const std::vector<ErrorCase> cases = {
      {400, "invalid_request_error", 400, "invalid_request_error"},
      {401, "authentication_error", 502, "upstream_authentication_error"},
      {403, "permission_error", 403, "permission_error"},
      {404, "not_found_error", 404, "invalid_request_error"},
      {413, "request_too_large", 413, "invalid_request_error"},
      {429, "rate_limit_error", 429, "rate_limit_error"},
      {500, "api_error", 500, "server_error"},
      {529, "overloaded_error", 503, "server_error"},
  };
  for (const auto& c : cases) {
    FakeUpstream upstream([&c](const RecordedRequest&) {
      auto response = UpstreamFailure(c.upstream_status, c.upstream_type, "upstream says no");
      response.headers.emplace_back("retry-after", "7");
      return response;
    });
    TestGateway gw(ConfigFor(upstream));
    auto response = PostChat(gw.port(), ChatBody(false));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, c.expected_status) << c.upstream_status;
    auto body = json::parse(response->body());
    EXPECT_EQ(body["error"]["type"], c.expected_type) << c.upstream_status;
    EXPECT_NE(body["error"]["message"].get<std::string>().find("upstream says no"),
              std::string::npos);
    EXPECT_EQ(response->header("request-id"), "req_upstream_err");
    if (c.upstream_status == 429) {
      EXPECT_EQ(response->header("retry-after"), "7");
    }
  }
}

TEST(ChatCompletions, RefusesUnsupportedParametersNamingThem) {
  FakeUpstream upstream([](const RecordedRequest&) { return ScriptedResponse{}; });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostChat(gw.port(), ChatBody(false, R"(,"logit_bias":{"1":2})"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(json::parse(response->body())["error"]["param"], "logit_bias");
  auto bad_json = PostChat(gw.port(), "{not json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  auto unknown_model =
      PostChat(gw.port(), R"({"model":"gpt-4","messages":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(unknown_model);
  EXPECT_EQ(unknown_model->status, 404);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ChatCompletions, TurnsAMidStreamErrorIntoAnErrorChunk) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto transcript = TextStreamTranscript("claude-sonnet-5-5", {"partial"}, 1, 1);
    transcript.resize(4);  // message_start, block start, ping, first delta
    transcript.push_back(SseEvent(
        "error", json{{"type", "error"},
                      {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}));
    return StreamOk(transcript);
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostChat(gw.port(), ChatBody(true));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  bool saw_error = false;
  for (const auto& data : DataLines(response->body())) {
    if (data == "[DONE]") {
      continue;
    }
    auto chunk = json::parse(data);
    if (chunk.contains("error")) {
      saw_error = true;
      EXPECT_NE(chunk["error"]["message"].get<std::string>().find("Overloaded"), std::string::npos);
    } else if (!chunk["choices"].empty()) {
      EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
    }
  }
  EXPECT_TRUE(saw_error);
}

TEST(ChatCompletions, ReportsAStreamCutOffMidway) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto response = StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"a", "b", "c"}, 1, 1));
    response.fault = ScriptedResponse::Fault::kResetMidStream;
    return response;
  });
  TestGateway gw(ConfigFor(upstream));
  auto response = PostChat(gw.port(), ChatBody(true));
  ASSERT_TRUE(response);
  EXPECT_NE(response->body().find("\"error\""), std::string::npos);
}

TEST(ChatCompletions, MapsConnectionFailuresTo502AndTimeoutsTo504) {
  {
    FakeUpstream upstream([](const RecordedRequest&) {
      ScriptedResponse response;
      response.fault = ScriptedResponse::Fault::kCloseBeforeHeaders;
      return response;
    });
    TestGateway gw(ConfigFor(upstream));
    auto response = PostChat(gw.port(), ChatBody(false));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 502);
    EXPECT_EQ(json::parse(response->body())["error"]["code"], "upstream_unreachable");
  }
  {
    FakeUpstream upstream([](const RecordedRequest&) {
      ScriptedResponse response;
      response.fault = ScriptedResponse::Fault::kNeverRespond;
      return response;
    });
    auto config = ConfigFor(upstream);
    config.upstream.first_byte_timeout = milliseconds(300);
    TestGateway gw(std::move(config));
    auto response = PostChat(gw.port(), ChatBody(false));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 504);
  }
}

TEST(ChatCompletions, RefusesAnUntrustedUpstreamCertificate) {
  FakeUpstream::Options options;
  options.certs = &UntrustedTestCerts();
  FakeUpstream upstream([](const RecordedRequest&) { return ScriptedResponse{}; }, options);
  TestGateway gw(ConfigFor(upstream));  // trusts only the shared test CA
  auto response = PostChat(gw.port(), ChatBody(false));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 502);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ChatCompletions, SendsHeartbeatsDuringLongSilences) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto response = StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"a", "b"}, 1, 1));
    response.delay_between_chunks = milliseconds(150);
    return response;
  });
  auto config = ConfigFor(upstream);
  config.upstream.heartbeat_interval = milliseconds(50);
  TestGateway gw(std::move(config));
  auto response = PostChat(gw.port(), ChatBody(true));
  ASSERT_TRUE(response);
  EXPECT_NE(response->body().find(": keep-alive"), std::string::npos);
  EXPECT_EQ(DataLines(response->body()).back(), "[DONE]");
}

TEST(ChatCompletions, ClosesTheUpstreamWhenTheClientDisconnects) {
  FakeUpstream upstream([](const RecordedRequest&) {
    std::vector<std::string> pieces(50, "word ");
    auto response = StreamOk(TextStreamTranscript("claude-sonnet-5-5", pieces, 1, 1));
    response.delay_between_chunks = milliseconds(200);
    return response;
  });
  TestGateway gw(ConfigFor(upstream));
  {
    TestClient client(gw.port());
    const std::string body = ChatBody(true);
    client.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                   kTestMasterKey + "\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body);
    ASSERT_TRUE(upstream.WaitForRequests(1, seconds(5)));
  }  // client socket closed here
  EXPECT_TRUE(upstream.WaitForClientDisconnect(seconds(2)));
}

TEST(ChatCompletions, AnswersServiceUnavailableWithoutCredentials) {
  FakeUpstream upstream([](const RecordedRequest&) { return ScriptedResponse{}; });
  auto none = std::make_shared<FakeCredentials>(credentials::Credential{}, false);
  TestGateway gw(ConfigFor(upstream), none);
  auto response = PostChat(gw.port(), ChatBody(false));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ChatCompletions, SendsApiKeysAsXApiKeyOnly) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  });
  auto api_key = std::make_shared<FakeCredentials>(
      credentials::Credential{credentials::CredentialKind::kApiKey, "sk-ant-api03-test"});
  TestGateway gw(ConfigFor(upstream), api_key);
  auto response = PostChat(gw.port(), ChatBody(false));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto sent = upstream.requests().at(0);
  EXPECT_EQ(sent.header("x-api-key"), "sk-ant-api03-test");
  EXPECT_EQ(sent.header("authorization"), "");
  EXPECT_EQ(sent.header("anthropic-beta").find("oauth"), std::string::npos);
}

}  // namespace
}  // namespace claudegate::testing
