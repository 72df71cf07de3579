// The real listener, session and middleware chain on 127.0.0.1:0, driven over real sockets.
#include <algorithm>
#include <cctype>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_credentials.hpp"
#include "support/fake_upstream.hpp"
#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

TEST(Server, AcceptsTheKeyAsBearerOrXApiKey) {
  TestGateway gw(TestConfig());
  auto bearer = Fetch(gw.port(), http::verb::get, "/v1/models", kTestMasterKey);
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200);
  auto api_key =
      Fetch(gw.port(), http::verb::get, "/v1/models", {}, {}, {{"x-api-key", kTestMasterKey}});
  ASSERT_TRUE(api_key);
  EXPECT_EQ(api_key->status, 200);
}

TEST(Server, RefusesMissingOrWrongKeysInTheRoutesOwnShape) {
  TestGateway gw(TestConfig());
  auto missing = Fetch(gw.port(), http::verb::get, "/v1/models");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  auto body = json::parse(missing->body());
  EXPECT_EQ(body["error"]["type"], "authentication_error");
  EXPECT_EQ(body["error"]["code"], "invalid_api_key");
  EXPECT_TRUE(body["error"].contains("param"));

  auto wrong =
      Fetch(gw.port(), http::verb::post, "/v1/messages", {}, "{}", {{"x-api-key", "sk-wrong"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto anthropic = json::parse(wrong->body());
  EXPECT_EQ(anthropic["type"], "error");
  EXPECT_EQ(anthropic["error"]["type"], "authentication_error");

  auto wrong_bearer = Fetch(gw.port(), http::verb::get, "/v1/models", kTestMasterKey + "x");
  ASSERT_TRUE(wrong_bearer);
  EXPECT_EQ(wrong_bearer->status, 401);
}

TEST(Server, ListsAndGetsModelsInOpenAiShape) {
  TestGateway gw(TestConfig());
  for (const char* path : {"/v1/models", "/models"}) {
    auto list = Fetch(gw.port(), http::verb::get, path, kTestMasterKey);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->status, 200);
    auto body = json::parse(list->body());
    EXPECT_EQ(body["object"], "list");
    ASSERT_EQ(body["data"].size(), 3U);
    EXPECT_EQ(body["data"][0]["id"], "sonnet");
    EXPECT_EQ(body["data"][0]["object"], "model");
    EXPECT_EQ(body["data"][0]["owned_by"], "anthropic");
    EXPECT_TRUE(body["data"][0]["created"].is_number());
  }
  auto one = Fetch(gw.port(), http::verb::get, "/v1/models/opus", kTestMasterKey);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(json::parse(one->body())["id"], "opus");

  auto unknown = Fetch(gw.port(), http::verb::get, "/v1/models/gpt-4", kTestMasterKey);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto error = json::parse(unknown->body());
  EXPECT_EQ(error["error"]["code"], "model_not_found");
  EXPECT_EQ(error["error"]["type"], "invalid_request_error");
}

TEST(Server, ListsModelsInAnthropicShapeForAnthropicClients) {
  TestGateway gw(TestConfig());
  auto list = Fetch(gw.port(), http::verb::get, "/v1/models", kTestMasterKey, {},
                    {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(list);
  auto body = json::parse(list->body());
  EXPECT_EQ(body["has_more"], false);
  EXPECT_EQ(body["data"][0]["type"], "model");
  EXPECT_EQ(body["first_id"], "sonnet");
}

TEST(Server, AnswersProbesWithoutAKeyAndHealthOnlyWithOne) {
  TestGateway gw(TestConfig());
  for (const char* path : {"/health/liveliness", "/health/liveness", "/health/readiness"}) {
    auto probe = Fetch(gw.port(), http::verb::get, path);
    ASSERT_TRUE(probe);
    EXPECT_EQ(probe->status, 200) << path;
  }
  auto refused = Fetch(gw.port(), http::verb::get, "/health");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  auto health = Fetch(gw.port(), http::verb::get, "/health", kTestMasterKey);
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body())["credentials"]["source"], "test");
}

TEST(Server, ReadinessFailsWithoutCredentialsAndSaysWhy) {
  auto none = std::make_shared<FakeCredentials>(credentials::Credential{}, false);
  TestGateway gw(TestConfig(), none);
  auto probe = Fetch(gw.port(), http::verb::get, "/health/readiness");
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 503);
  EXPECT_EQ(json::parse(probe->body())["status"], "unhealthy");
}

TEST(Server, Answers404ForUnknownRoutesAnd405WithAllow) {
  TestGateway gw(TestConfig());
  auto unknown = Fetch(gw.port(), http::verb::get, "/v1/nothing-here", kTestMasterKey);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body())["error"]["code"], "route_not_found");

  auto wrong_method = Fetch(gw.port(), http::verb::delete_, "/v1/models", kTestMasterKey);
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->header("allow"), "GET, HEAD");
}

// Issue 14, finding 14: probes that use HEAD got 405. Every GET route answers HEAD with the GET's
// status and header fields and no content (RFC 9110 §9.3.2); the connection stays usable.
TEST(Server, AnswersHeadOnEveryGetRouteWithoutABody) {
  TestGateway gw(TestConfig());
  const std::string auth = "Authorization: Bearer " + kTestMasterKey + "\r\n";
  for (const std::string target :
       {"/health/liveliness", "/health/liveness", "/health/readiness", "/health", "/metrics",
        "/v1/models", "/models", "/v1/models/sonnet"}) {
    TestClient client(gw.port());
    // HEAD, then GET on the same connection: a body after the HEAD answer would be read as the
    // start of the GET's answer.
    client.SendRaw("HEAD " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n" + "GET " + target +
                   " HTTP/1.1\r\nHost: x\r\n" + auth + "Connection: close\r\n\r\n");
    const std::string raw = client.ReadAll();
    const auto second = raw.find("HTTP/1.1 ", 1);
    ASSERT_TRUE(raw.starts_with("HTTP/1.1 200 ")) << target << ": " << raw.substr(0, 200);
    ASSERT_NE(second, std::string::npos) << target << ": " << raw;
    const std::string head_answer = raw.substr(0, second);
    const std::string get_answer = raw.substr(second);
    EXPECT_TRUE(head_answer.ends_with("\r\n\r\n")) << target << ": no content after the head";
    EXPECT_TRUE(get_answer.starts_with("HTTP/1.1 200 ")) << target << ": " << get_answer;
    // The header fields a GET would have, Content-Length included.
    const auto get_length = get_answer.find("Content-Length: ");
    ASSERT_NE(get_length, std::string::npos) << target;
    if (target != "/metrics" && target != "/health") {  // both change between the two requests
      const auto end = get_answer.find("\r\n", get_length);
      const auto line = get_answer.substr(get_length, end - get_length);
      EXPECT_NE(head_answer.find(line), std::string::npos) << target << ": " << head_answer;
    }
  }
  // Refusals to HEAD are header-only too, and a route without GET still says 405.
  TestClient refused(gw.port());
  refused.SendRaw(
      "HEAD /v1/models HTTP/1.1\r\nHost: x\r\n\r\nGET /health/liveness HTTP/1.1\r\n"
      "Host: x\r\nConnection: close\r\n\r\n");
  const std::string raw = refused.ReadAll();
  ASSERT_TRUE(raw.starts_with("HTTP/1.1 401 ")) << raw.substr(0, 200);
  const auto next = raw.find("HTTP/1.1 ", 1);
  ASSERT_NE(next, std::string::npos) << raw;
  EXPECT_TRUE(raw.substr(0, next).ends_with("\r\n\r\n"));
  EXPECT_TRUE(raw.substr(next).starts_with("HTTP/1.1 200 ")) << raw.substr(next, 200);
  TestClient post_only(gw.port());
  post_only.SendRaw("HEAD /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + auth +
                    "Connection: close\r\n\r\n");
  std::string answer = post_only.ReadAll();
  std::transform(answer.begin(), answer.end(), answer.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  EXPECT_TRUE(answer.starts_with("http/1.1 405 ")) << answer;
  EXPECT_NE(answer.find("\r\nallow: post\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\n")) << answer;
}

TEST(Server, EchoesOrGeneratesRequestIds) {
  TestGateway gw(TestConfig());
  auto echoed =
      Fetch(gw.port(), http::verb::get, "/health/liveness", {}, {}, {{"x-request-id", "abc-123"}});
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->header("x-request-id"), "abc-123");
  auto generated = Fetch(gw.port(), http::verb::get, "/health/liveness", {}, {},
                         {{"x-request-id", "bad id\twith tab"}});
  ASSERT_TRUE(generated);
  EXPECT_TRUE(generated->header("x-request-id").starts_with("req_"));
}

TEST(Server, ServesSeveralRequestsOnOneKeptAliveConnection) {
  TestGateway gw(TestConfig());
  TestClient client(gw.port());
  for (int i = 0; i < 5; ++i) {
    auto response = client.Request(http::verb::get, "/v1/models", {},
                                   {{"authorization", "Bearer " + kTestMasterKey}});
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(response->message.keep_alive());
  }
}

TEST(Server, AnswersPipelinedRequestsInOrder) {
  TestGateway gw(TestConfig());
  TestClient client(gw.port());
  std::string batch;
  for (const char* id : {"one", "two", "three"}) {
    batch +=
        "GET /health/liveness HTTP/1.1\r\nHost: x\r\nx-request-id: " + std::string(id) + "\r\n\r\n";
  }
  client.SendRaw(batch);
  for (const char* id : {"one", "two", "three"}) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->header("x-request-id"), id);
  }
}

TEST(Server, RejectsOversizedBodiesWith413) {
  auto config = TestConfig();
  config.limits.max_body_bytes = 1024;
  TestGateway gw(std::move(config));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey,
                        std::string(2048, 'x'));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(json::parse(response->body())["error"]["code"], "request_too_large");
  // An Anthropic route answers in Anthropic's shape.
  auto anthropic =
      Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey, std::string(2048, 'x'));
  ASSERT_TRUE(anthropic);
  EXPECT_EQ(anthropic->status, 413);
  EXPECT_EQ(json::parse(anthropic->body())["error"]["type"], "request_too_large");
}

TEST(Server, RejectsOversizedHeadersWith431) {
  auto config = TestConfig();
  config.limits.max_header_bytes = 2048;
  TestGateway gw(std::move(config));
  auto response = Fetch(gw.port(), http::verb::get, "/v1/models", kTestMasterKey, {},
                        {{"x-padding", std::string(4096, 'a')}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
}

TEST(Server, AnswersMalformedRequestsWith400AndKeepsServing) {
  TestGateway gw(TestConfig());
  const std::vector<std::string> garbage = {
      "THIS IS NOT HTTP\r\n\r\n",
      "GET /v1/models HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
      "GET /v1/models HTTP/9.9\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      // A bad chunk is in the body, which is read only for the key holder (a keyless client gets
      // 401 from its header, before its body).
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kTestMasterKey +
          "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (const auto& bytes : garbage) {
    TestClient client(gw.port());
    client.SendRaw(bytes);
    auto response = client.ReadResponse();
    ASSERT_TRUE(response) << bytes;
    EXPECT_EQ(response->status, 400) << bytes;
    EXPECT_EQ(json::parse(response->body())["error"]["code"], "bad_request");
    EXPECT_TRUE(client.WaitForClose());
  }
  auto still = Fetch(gw.port(), http::verb::get, "/v1/models", kTestMasterKey);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200);
}

TEST(Server, ClosesSlowHeadersWith408) {
  auto config = TestConfig();
  config.limits.header_timeout = std::chrono::milliseconds(200);
  TestGateway gw(std::move(config));
  TestClient client(gw.port());
  client.SendRaw("GET /v1/models HTTP/1.1\r\nHost: x\r\n");  // never finishes the header block
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
}

TEST(Server, ClosesIdleKeepAliveConnections) {
  auto config = TestConfig();
  config.limits.idle_timeout = std::chrono::milliseconds(200);
  TestGateway gw(std::move(config));
  TestClient client(gw.port());
  auto response = client.Request(http::verb::get, "/health/liveness");
  ASSERT_TRUE(response);
  EXPECT_TRUE(client.WaitForClose());
}

// Regression: a client that hangs up right after reading its response is often seen to close by
// the read that watches for disconnects during the request. The session must end then; reading
// again after EOF hung until the idle timeout (Asio waits for an epoll edge that never comes).
TEST(Server, EndsTheSessionWhenTheClientHangsUpRightAfterItsResponse) {
  auto config = TestConfig();
  config.limits.idle_timeout = std::chrono::seconds(60);
  TestGateway gw(std::move(config));
  for (int i = 0; i < 200; ++i) {
    auto response = Fetch(gw.port(), http::verb::get, "/v1/models", kTestMasterKey);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200);
  }
  EXPECT_TRUE(PollUntil([&] { return gw.gateway().server().active_connections() == 0; },
                        std::chrono::seconds(5)))  // a gauge: nothing to await
      << gw.gateway().server().active_connections();
}

// The connection limit (503 when every slot is busy, eviction of the oldest idle connection
// otherwise) is covered in hostile_connections_test.cpp.

TEST(Server, ShutdownClosesIdleConnectionsAndStopsAccepting) {
  auto gw = std::make_unique<TestGateway>(TestConfig());
  TestClient idle(gw->port());
  ASSERT_TRUE(idle.Request(http::verb::get, "/health/liveness"));
  auto done = gw->BeginShutdown();
  EXPECT_TRUE(idle.WaitForClose());
  EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_THROW(TestClient late(gw->port()), boost::system::system_error);
}

}  // namespace
}  // namespace claudegate::testing

namespace claudegate::testing {
namespace {

TEST(Server, ShutdownLetsAnInFlightStreamFinish) {
  FakeUpstream upstream([](const RecordedRequest&) {
    auto response = SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"a", "b", "c"}, 1, 1));
    response.delay_between_chunks = std::chrono::milliseconds(100);
    return response;
  });
  auto config = ConfigFor(upstream);
  TestGateway gw(std::move(config));
  TestClient client(gw.port());
  const std::string body =
      R"({"model":"sonnet","stream":true,"messages":[{"role":"user","content":"x"}]})";
  client.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                 kTestMasterKey + "\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n" + body);
  ASSERT_TRUE(upstream.WaitForRequests(1, std::chrono::seconds(5)));
  auto done = gw.BeginShutdown();
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body().find("data: [DONE]"), std::string::npos);
  // The head went out before the shutdown began, so it still said keep-alive; the session closes
  // the connection once the stream is done.
  EXPECT_TRUE(client.WaitForClose());
  EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST(Server, ShutdownForceClosesAfterTheGracePeriod) {
  FakeUpstream upstream([](const RecordedRequest&) {
    ScriptedResponse hang;
    hang.fault = ScriptedResponse::Fault::kNeverRespond;
    return hang;
  });
  auto config = ConfigFor(upstream);
  config.limits.shutdown_grace = std::chrono::milliseconds(200);
  TestGateway gw(std::move(config));
  TestClient client(gw.port());
  const std::string body = R"({"model":"sonnet","messages":[{"role":"user","content":"x"}]})";
  client.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                 kTestMasterKey + "\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n" + body);
  ASSERT_TRUE(upstream.WaitForRequests(1, std::chrono::seconds(5)));
  auto done = gw.BeginShutdown();
  EXPECT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(upstream.WaitForClientDisconnect(std::chrono::seconds(2)));
}

}  // namespace
}  // namespace claudegate::testing
