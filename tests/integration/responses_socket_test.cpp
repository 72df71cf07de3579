// The Responses WebSocket through the real gateway (issue #17, part 3): `response.create` turns
// streamed back as messages, delta turns continued from the socket's memory with `store: false`,
// the warm-up (`generate: false`), errors as `error` messages on a socket that stays open, the
// handshake's authentication, and the store behind ids the socket does not remember.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_credentials.hpp"
#include "support/fake_upstream.hpp"
#include "support/responses_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"
#include "support/websocket_client.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

Handler Replying(std::string text) {
  return [text = std::move(text)](const RecordedRequest&) {
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {text}, 10, 3));
  };
}

json Create(json fields) {
  fields["type"] = "response.create";
  if (!fields.contains("model")) {
    fields["model"] = "sonnet";
  }
  return fields;
}

std::vector<std::string> Types(const std::vector<json>& messages) {
  std::vector<std::string> out;
  for (const auto& message : messages) {
    out.push_back(message.value("type", ""));
  }
  return out;
}

TEST(ResponsesSocket, StreamsATurnAsMessages) {
  FakeUpstream upstream(Replying("Paris."));
  TestGateway gw(ConfigFor(upstream));
  TestWebSocket ws(gw.port(), "/v1/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open()) << ws.status();
  EXPECT_FALSE(ws.HandshakeHeader("x-request-id").empty());

  ASSERT_TRUE(ws.Send(Create({{"input", "Capital of France?"}, {"store", false}})));
  const auto turn = ws.ReadTurn();
  ASSERT_FALSE(turn.empty());
  EXPECT_EQ(Types(turn).front(), "response.created");
  ASSERT_EQ(turn.back()["type"], "response.completed") << turn.back().dump();
  const json& response = turn.back()["response"];
  EXPECT_EQ(response["output"][0]["content"][0]["text"], "Paris.");
  EXPECT_EQ(response["store"], false);
  std::int64_t expected_sequence = 0;
  for (const auto& event : turn) {
    EXPECT_EQ(event["sequence_number"], expected_sequence++) << event.dump();
  }
  ASSERT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(upstream.requests()[0].JsonBody()["stream"], true);
  EXPECT_EQ(upstream.requests()[0].header("authorization").find(kTestMasterKey), std::string::npos)
      << "the master key is never forwarded";
}

TEST(ResponsesSocket, DeltaTurnsContinueFromTheSocketWithoutAStore) {
  FakeUpstream upstream(Replying("Paris."));
  auto config = ConfigFor(upstream);
  ASSERT_FALSE(config.store.enabled) << "the socket's memory, not the store, must carry the turn";
  TestGateway gw(config);
  TestWebSocket ws(gw.port(), "/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open());

  ASSERT_TRUE(ws.Send(Create({{"input", "Capital of France?"}, {"store", false}})));
  auto first = ws.ReadTurn();
  ASSERT_EQ(first.back()["type"], "response.completed") << first.back().dump();
  const std::string first_id = first.back()["response"]["id"];

  ASSERT_TRUE(ws.Send(Create(
      {{"previous_response_id", first_id},
       {"input",
        json::array({{{"type", "message"}, {"role", "user"}, {"content", "And of Italy?"}}})},
       {"store", false}})));
  auto second = ws.ReadTurn();
  ASSERT_EQ(second.back()["type"], "response.completed") << second.back().dump();
  EXPECT_EQ(second.back()["response"]["previous_response_id"], first_id);
  ASSERT_EQ(upstream.requests().size(), 2U);
  EXPECT_EQ(Transcript(upstream.requests()[1].JsonBody()),
            "user:Capital of France?|assistant:Paris.|user:And of Italy?|");

  // Only the socket's last response is remembered; without a store an older id is refused.
  ASSERT_TRUE(ws.Send(Create({{"previous_response_id", first_id}, {"input", "again"}})));
  auto stale = ws.ReadTurn();
  ASSERT_EQ(stale.size(), 1U);
  EXPECT_EQ(stale[0]["type"], "error");
  EXPECT_EQ(stale[0]["status"], 400);
  EXPECT_EQ(stale[0]["error"]["code"], "response_not_stored");
  EXPECT_EQ(upstream.requests().size(), 2U);
}

TEST(ResponsesSocket, WarmUpMakesAResponseWithoutCallingClaude) {
  FakeUpstream upstream(Replying("Rome."));
  TestGateway gw(ConfigFor(upstream));
  TestWebSocket ws(gw.port(), "/v1/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open());

  ASSERT_TRUE(
      ws.Send(Create({{"input", "Capital of Italy?"}, {"store", false}, {"generate", false}})));
  auto warm = ws.ReadTurn();
  EXPECT_EQ(Types(warm), (std::vector<std::string>{"response.created", "response.in_progress",
                                                   "response.completed"}));
  EXPECT_EQ(warm.back()["response"]["output"], json::array());
  EXPECT_EQ(warm.back()["response"]["status"], "completed");
  EXPECT_TRUE(upstream.requests().empty());

  ASSERT_TRUE(ws.Send(Create({{"previous_response_id", warm.back()["response"]["id"]},
                              {"input", json::array()},
                              {"store", false}})));
  auto turn = ws.ReadTurn();
  ASSERT_EQ(turn.back()["type"], "response.completed") << turn.back().dump();
  ASSERT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(Transcript(upstream.requests()[0].JsonBody()), "user:Capital of Italy?|");
}

TEST(ResponsesSocket, BadMessagesGetErrorMessagesAndTheSocketStaysOpen) {
  FakeUpstream upstream(Replying("ok"));
  TestGateway gw(ConfigFor(upstream));
  TestWebSocket ws(gw.port(), "/v1/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open());

  ASSERT_TRUE(ws.SendText("{not json"));
  auto message = ws.Read();
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["type"], "error");
  EXPECT_EQ((*message)["status"], 400);
  EXPECT_EQ((*message)["error"]["type"], "invalid_request_error");
  EXPECT_EQ((*message)["error"]["code"], "invalid_json");

  ASSERT_TRUE(ws.Send({{"type", "session.update"}}));
  message = ws.Read();
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["error"]["code"], "unknown_event_type");
  EXPECT_EQ((*message)["error"]["param"], "type");

  ASSERT_TRUE(ws.Send(Create({{"input", "x"}, {"background", true}})));
  message = ws.Read();
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["error"]["param"], "background");

  // A request the route refuses: its HTTP error, as a message.
  ASSERT_TRUE(ws.Send(Create({{"model", "no-such-model"}, {"input", "x"}})));
  message = ws.Read();
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["type"], "error");
  EXPECT_EQ((*message)["status"], 404) << message->dump();
  EXPECT_EQ((*message)["error"]["code"], "model_not_found") << message->dump();

  // Codex's acknowledgement needs no answer: the next message is the next turn's.
  ASSERT_TRUE(ws.Send({{"type", "response.processed"}, {"response_id", "resp_x"}}));
  ASSERT_TRUE(ws.Send(Create({{"input", "hello"}})));
  auto turn = ws.ReadTurn();
  ASSERT_FALSE(turn.empty());
  EXPECT_EQ(turn.front()["type"], "response.created");
  EXPECT_EQ(turn.back()["type"], "response.completed");
  EXPECT_EQ(upstream.requests().size(), 1U);
}

TEST(ResponsesSocket, UpstreamErrorsComeBackAsErrorMessagesWithTheirStatus) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(json{{"type", "error"},
                             {"error",
                              {{"type", "invalid_request_error"},
                               {"message", "prompt is too long: 300000 tokens > 200000 maximum"}}}},
                        400);
  });
  TestGateway gw(ConfigFor(upstream));
  TestWebSocket ws(gw.port(), "/v1/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open());
  ASSERT_TRUE(ws.Send(Create({{"input", "long"}})));
  auto message = ws.Read();
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["type"], "error");
  EXPECT_EQ((*message)["status"], 400);
  EXPECT_NE((*message)["error"]["message"].get<std::string>().find("prompt is too long"),
            std::string::npos)
      << message->dump();
}

TEST(ResponsesSocket, TheHandshakeIsAuthenticatedAndValidated) {
  FakeUpstream upstream(Replying("unused"));
  TestGateway gw(ConfigFor(upstream));
  TestWebSocket no_key(gw.port(), "/v1/responses", "");
  EXPECT_FALSE(no_key.open());
  EXPECT_EQ(no_key.status(), 401);
  TestWebSocket wrong_key(gw.port(), "/v1/responses", "sk-wrong");
  EXPECT_FALSE(wrong_key.open());
  EXPECT_EQ(wrong_key.status(), 401);

  // An Upgrade without the WebSocket handshake fields: Beast's 400, and the gateway serves on.
  auto upgrade = Fetch(gw.port(), http::verb::get, "/v1/responses", kTestMasterKey, "",
                       {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}});
  ASSERT_TRUE(upgrade);
  EXPECT_EQ(upgrade->status, 400);
  auto plain_get = Fetch(gw.port(), http::verb::get, "/v1/responses", kTestMasterKey, "");
  ASSERT_TRUE(plain_get);
  EXPECT_EQ(plain_get->status, 405);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ResponsesSocket, StoredTurnsAreFoundByIdsTheSocketDoesNotRemember) {
  TempDir dir;
  FakeUpstream upstream(Replying("Paris."));
  auto config = ConfigFor(upstream);
  config.store.enabled = true;
  config.store.data_dir = dir.path();
  TestGateway gw(config);

  auto stored = PostJson(gw.port(), {{"model", "sonnet"}, {"input", "Capital of France?"}});
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->status, 200) << stored->body();
  const std::string stored_id = json::parse(stored->body())["id"];

  TestWebSocket ws(gw.port(), "/v1/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open());
  ASSERT_TRUE(ws.Send(Create({{"previous_response_id", stored_id}, {"input", "Population?"}})));
  auto turn = ws.ReadTurn();
  ASSERT_EQ(turn.back()["type"], "response.completed") << turn.back().dump();
  EXPECT_EQ(Transcript(upstream.requests().back().JsonBody()),
            "user:Capital of France?|assistant:Paris.|user:Population?|");

  ASSERT_TRUE(ws.Send(Create({{"previous_response_id", "resp_unknown"}, {"input", "x"}})));
  auto missing = ws.Read();
  ASSERT_TRUE(missing);
  EXPECT_EQ((*missing)["status"], 404);
  EXPECT_EQ((*missing)["error"]["param"], "previous_response_id");

  // The socket's own turn was stored too (store defaults to true): a later HTTP turn continues it.
  auto over_http = PostJson(gw.port(), {{"model", "sonnet"},
                                        {"previous_response_id", turn.back()["response"]["id"]},
                                        {"input", "Thanks"}});
  ASSERT_TRUE(over_http);
  EXPECT_EQ(over_http->status, 200) << over_http->body();
}

TEST(ResponsesSocket, AMessageOverTheBodyLimitClosesTheSocket) {
  FakeUpstream upstream(Replying("ok"));
  auto config = ConfigFor(upstream);
  config.limits.max_body_bytes = 4096;
  TestGateway gw(config);
  TestWebSocket ws(gw.port(), "/v1/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open());
  ASSERT_TRUE(ws.Send(Create({{"input", std::string(8192, 'x')}})));
  EXPECT_FALSE(ws.Read());
  EXPECT_EQ(ws.closed_reason().code, beast::websocket::close_code::too_big);
  EXPECT_TRUE(upstream.requests().empty());
  // The gateway serves on.
  TestWebSocket next(gw.port(), "/v1/responses", kTestMasterKey);
  EXPECT_TRUE(next.open());
}

TEST(ResponsesSocket, ShutdownClosesAnIdleSocket) {
  FakeUpstream upstream(Replying("ok"));
  auto gw = std::make_unique<TestGateway>(ConfigFor(upstream));
  TestWebSocket ws(gw->port(), "/v1/responses", kTestMasterKey);
  ASSERT_TRUE(ws.open());
  ASSERT_TRUE(ws.Send(Create({{"input", "hi"}})));
  ASSERT_EQ(ws.ReadTurn().back()["type"], "response.completed");
  gw.reset();  // orderly shutdown: the idle socket is closed, not waited for
  EXPECT_FALSE(ws.Read());
}

}  // namespace
}  // namespace claudegate::testing
