// Virtual keys through the real gateway (issue #19): LiteLLM's /key/* routes, each limit as the
// client sees it (in the route's own error shape), changes taking effect at once, keys and spend
// across a restart, and `claudegate key` on the same data directory, with SQLite real in a
// per-test directory and the TLS fake upstream.
#include <atomic>
#include <future>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/claudegate_process.hpp"
#include "support/fake_upstream.hpp"
#include "support/poll.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

// Messages calls answer "ok" with 10 input and 3 output tokens, streamed or not.
Handler Answering() {
  return [](const RecordedRequest& request) {
    const auto body = request.JsonBody();
    if (body.value("stream", false)) {
      ScriptedResponse response;
      response.headers.emplace_back("content-type", "text/event-stream");
      response.chunks = TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 10, 3);
      return response;
    }
    return JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 10, 3));
  };
}

config::Config KeysConfig(const FakeUpstream& upstream, const TempDir& dir) {
  auto config = ConfigFor(upstream);
  config.store.enabled = true;
  config.store.data_dir = dir.path();
  return config;
}

std::optional<TestResponse> Admin(std::uint16_t port, http::verb method, std::string_view target,
                                  const json& body = nullptr,
                                  std::string_view key = kTestMasterKey) {
  return Fetch(port, method, target, key, body.is_null() ? std::string() : body.dump());
}

// A new key with `fields`; its text.
std::string Generate(std::uint16_t port, const json& fields) {
  auto reply = Admin(port, http::verb::post, "/key/generate", fields);
  EXPECT_TRUE(reply);
  if (!reply) {
    return {};
  }
  EXPECT_EQ(reply->status, 200) << reply->body();
  return json::parse(reply->body()).value("key", "");
}

std::optional<TestResponse> Chat(std::uint16_t port, std::string_view key,
                                 std::string_view model = "sonnet") {
  const json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  return Fetch(port, http::verb::post, "/v1/chat/completions", key, body.dump());
}

std::optional<TestResponse> Messages(std::uint16_t port, std::string_view key) {
  const json body = {{"model", "sonnet"},
                     {"max_tokens", 16},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  return Fetch(port, http::verb::post, "/v1/messages", key, body.dump(),
               {{"anthropic-version", "2023-06-01"}});
}

// Polls /key/info (master key) until it answers `status`, for at most 5 s.
bool WaitForKeyInfoStatus(std::uint16_t port, const std::string& key, unsigned status) {
  return PollUntil([&] {
    auto reply = Admin(port, http::verb::get, "/key/info?key=" + key);
    return reply && reply->status == status;
  });
}

// Polls /key/info until the key's spend is above zero, for at most 5 s.
bool WaitForSpend(std::uint16_t port, const std::string& key) {
  return PollUntil([&] {
    auto reply = Admin(port, http::verb::get, "/key/info?key=" + key);
    return reply && reply->status == 200 &&
           json::parse(reply->body(), nullptr, false)["info"].value("spend", 0.0) > 0.0;
  });
}

json Info(std::uint16_t port, const std::string& key) {
  auto reply = Admin(port, http::verb::get, "/key/info?key=" + key);
  EXPECT_TRUE(reply && reply->status == 200);
  return reply ? json::parse(reply->body(), nullptr, false) : json();
}

TEST(Keys, AGeneratedKeyWorksOnEveryRouteAndIsNeverForwarded) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  TestGateway gw(KeysConfig(upstream, dir));

  auto generated = Admin(gw.port(), http::verb::post, "/key/generate",
                         {{"key_alias", "ci-bot"}, {"models", {"sonnet"}}, {"rpm_limit", 100}});
  ASSERT_TRUE(generated);
  ASSERT_EQ(generated->status, 200) << generated->body();
  const json created = json::parse(generated->body());
  const std::string key = created["key"];
  EXPECT_EQ(key.size(), 67U);
  EXPECT_EQ(created["key_alias"], "ci-bot");
  EXPECT_EQ(created["key_name"], key.substr(0, 3) + "..." + key.substr(63));
  EXPECT_EQ(created["rpm_limit"], 100);

  auto chat = Chat(gw.port(), key);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200) << chat->body();
  auto messages = Messages(gw.port(), key);
  ASSERT_TRUE(messages);
  EXPECT_EQ(messages->status, 200) << messages->body();
  ASSERT_EQ(upstream.requests().size(), 2U);
  for (const auto& request : upstream.requests()) {
    for (const auto& field : request.headers) {
      EXPECT_EQ(field.value().find(key), std::string::npos) << field.name_string();
      EXPECT_EQ(field.value().find(kTestMasterKey), std::string::npos) << field.name_string();
    }
  }

  // Two calls of 10 in + 3 out at Sonnet 5.5's price ($2 / $10 per million).
  const json info = Info(gw.port(), key);
  EXPECT_EQ(info["key"], key);
  EXPECT_EQ(info["info"]["key_alias"], "ci-bot");
  EXPECT_NEAR(info["info"]["spend"].get<double>(), 2 * (10 * 2e-6 + 3 * 10e-6), 1e-12);
  EXPECT_FALSE(info["info"].contains("key"));

  auto listed = Admin(gw.port(), http::verb::get, "/key/list?return_full_object=true");
  ASSERT_TRUE(listed);
  const json list = json::parse(listed->body());
  EXPECT_EQ(list["total_count"], 1);
  EXPECT_EQ(list["keys"][0]["token"], created["token"]);
  EXPECT_EQ(listed->body().find(key), std::string::npos);
}

TEST(Keys, OnlyTheMasterKeyManagesKeys) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  TestGateway gw(KeysConfig(upstream, dir));
  const std::string mine = Generate(gw.port(), {{"key_alias", "mine"}});
  const std::string other = Generate(gw.port(), {{"key_alias", "other"}});

  for (const auto& [method, target] :
       {std::pair{http::verb::post, "/key/generate"}, std::pair{http::verb::post, "/key/update"},
        std::pair{http::verb::post, "/key/delete"}, std::pair{http::verb::get, "/key/list"}}) {
    auto refused = Admin(gw.port(), method, target, json::object(), mine);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403) << target;
    EXPECT_EQ(json::parse(refused->body())["error"]["code"], "master_key_required") << target;
  }
  auto own = Admin(gw.port(), http::verb::get, "/key/info", nullptr, mine);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);
  EXPECT_EQ(json::parse(own->body())["info"]["key_alias"], "mine");
  auto others = Admin(gw.port(), http::verb::get, "/key/info?key=" + other, nullptr, mine);
  ASSERT_TRUE(others);
  EXPECT_EQ(others->status, 403);
}

TEST(Keys, ARateLimitIsA429InTheRoutesOwnShapeWithRetryAfter) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  TestGateway gw(KeysConfig(upstream, dir));
  const std::string key = Generate(gw.port(), {{"key_alias", "slow"}, {"rpm_limit", 1}});
  ASSERT_EQ(Chat(gw.port(), key)->status, 200);

  auto openai = Chat(gw.port(), key);
  ASSERT_TRUE(openai);
  EXPECT_EQ(openai->status, 429);
  const json openai_error = json::parse(openai->body());
  EXPECT_EQ(openai_error["error"]["type"], "rate_limit_error") << openai->body();
  EXPECT_NE(openai_error["error"]["message"].get<std::string>().find("rpm_limit 1"),
            std::string::npos);
  const int retry_after = std::stoi(openai->header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);

  auto anthropic = Messages(gw.port(), key);
  ASSERT_TRUE(anthropic);
  EXPECT_EQ(anthropic->status, 429);
  const json anthropic_error = json::parse(anthropic->body());
  EXPECT_EQ(anthropic_error["type"], "error") << anthropic->body();
  EXPECT_EQ(anthropic_error["error"]["type"], "rate_limit_error");
  EXPECT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(gw.metrics().key_requests.Value({"slow", "admitted"}), 1);
  EXPECT_EQ(gw.metrics().key_requests.Value({"slow", "key_rpm_limit"}), 2);
  EXPECT_EQ(gw.metrics().key_tokens.Value({"slow", "input"}), 10);
  EXPECT_EQ(gw.metrics().key_tokens.Value({"slow", "output"}), 3);
  // The master key is not limited.
  EXPECT_EQ(Chat(gw.port(), kTestMasterKey)->status, 200);
}

TEST(Keys, ModelsBlockingAndDeletionTakeEffectOnTheNextRequest) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  TestGateway gw(KeysConfig(upstream, dir));
  const std::string key = Generate(gw.port(), {{"models", {"haiku"}}});

  auto wrong_model = Chat(gw.port(), key, "sonnet");
  ASSERT_TRUE(wrong_model);
  EXPECT_EQ(wrong_model->status, 403);
  EXPECT_EQ(json::parse(wrong_model->body())["error"]["code"], "key_model_not_allowed");
  EXPECT_EQ(Chat(gw.port(), key, "haiku")->status, 200);

  auto blocked = Admin(gw.port(), http::verb::post, "/key/update",
                       {{"key", key}, {"blocked", true}, {"models", nullptr}});
  ASSERT_TRUE(blocked);
  ASSERT_EQ(blocked->status, 200) << blocked->body();
  EXPECT_EQ(json::parse(blocked->body())["blocked"], true);
  auto refused = Chat(gw.port(), key, "sonnet");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(json::parse(refused->body())["error"]["code"], "key_blocked");
  ASSERT_EQ(
      Admin(gw.port(), http::verb::post, "/key/update", {{"key", key}, {"blocked", false}})->status,
      200);
  EXPECT_EQ(Chat(gw.port(), key, "sonnet")->status, 200);

  auto deleted = Admin(gw.port(), http::verb::post, "/key/delete", {{"keys", {key}}});
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 200) << deleted->body();
  EXPECT_EQ(json::parse(deleted->body())["deleted_keys"], json::array({key}));
  EXPECT_EQ(Chat(gw.port(), key)->status, 401);
  EXPECT_EQ(Admin(gw.port(), http::verb::post, "/key/delete", {{"keys", {key}}})->status, 404);
}

TEST(Keys, ParallelRequestsBeyondTheLimitAreRefusedWhileOneRuns) {
  TempDir dir;
  std::atomic<int> calls{0};
  FakeUpstream upstream([&calls](const RecordedRequest&) {
    ScriptedResponse response;
    response.headers.emplace_back("content-type", "text/event-stream");
    response.chunks = TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 10, 3);
    if (calls.fetch_add(1) == 0) {
      response.delay_before_headers = std::chrono::milliseconds(1500);
    }
    return response;
  });
  TestGateway gw(KeysConfig(upstream, dir));
  const std::string key = Generate(gw.port(), {{"max_parallel_requests", 1}});
  auto slow = std::async(std::launch::async, [&] { return Chat(gw.port(), key); });
  ASSERT_TRUE(upstream.WaitForRequests(1, std::chrono::seconds(10)));
  auto refused = Chat(gw.port(), key);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_NE(refused->body().find("max_parallel_requests 1"), std::string::npos);
  EXPECT_EQ(refused->header("retry-after"), "1");
  auto first = slow.get();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(Chat(gw.port(), key)->status, 200);  // the slot is free again
}

TEST(Keys, ABudgetStopsTheKeyOnceSpent) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  TestGateway gw(KeysConfig(upstream, dir));
  // One call costs $0.00005; the budget is spent by the first.
  const std::string key = Generate(gw.port(), {{"key_alias", "tight"}, {"max_budget", 0.00001}});
  ASSERT_EQ(Chat(gw.port(), key)->status, 200);
  // The spend is charged once the reply has gone out, which the client may see first.
  ASSERT_TRUE(WaitForSpend(gw.port(), key));
  auto refused = Messages(gw.port(), key);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_NE(refused->body().find("Budget exceeded for key 'tight'"), std::string::npos)
      << refused->body();
  // Raising the budget lets it through at once.
  ASSERT_EQ(
      Admin(gw.port(), http::verb::post, "/key/update", {{"key", key}, {"max_budget", 1}})->status,
      200);
  EXPECT_EQ(Messages(gw.port(), key)->status, 200);
}

TEST(Keys, BadRequestsAre400sNamingTheField) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  TestGateway gw(KeysConfig(upstream, dir));
  Generate(gw.port(), {{"key_alias", "taken"}});
  const std::pair<json, const char*> cases[] = {
      {{{"key_alias", "taken"}}, "key_alias"},
      {{{"rpm_limit", "ten"}}, "rpm_limit"},
      {{{"budget_duration", "monthly"}}, "budget_duration"},
      {{{"key", "sk-mine"}}, "key"},
  };
  for (const auto& [body, field] : cases) {
    auto reply = Admin(gw.port(), http::verb::post, "/key/generate", body);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400) << body.dump();
    EXPECT_EQ(json::parse(reply->body())["error"]["param"], field) << reply->body();
  }
  auto not_json = Fetch(gw.port(), http::verb::post, "/key/generate", kTestMasterKey, "{oops");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_EQ(Admin(gw.port(), http::verb::post, "/key/update", {{"key", "sk-unknown"}})->status,
            404);
  EXPECT_EQ(Admin(gw.port(), http::verb::get, "/key/list?size=0")->status, 400);
}

TEST(Keys, WithoutAStoreKeyRoutesAre503AndTheMasterKeyWorks) {
  FakeUpstream upstream(Answering());
  TestGateway gw(ConfigFor(upstream));  // no data directory
  auto reply = Admin(gw.port(), http::verb::post, "/key/generate", json::object());
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(Chat(gw.port(), kTestMasterKey)->status, 200);
}

TEST(Keys, KeysAndTheirSpendSurviveARestart) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  std::string key;
  {
    TestGateway gw(KeysConfig(upstream, dir));
    key = Generate(gw.port(), {{"key_alias", "durable"}});
    ASSERT_EQ(Chat(gw.port(), key)->status, 200);
  }  // shutdown writes the last spend
  TestGateway gw(KeysConfig(upstream, dir));
  EXPECT_EQ(Chat(gw.port(), key)->status, 200);
  const json info = Info(gw.port(), key);
  EXPECT_NEAR(info["info"]["spend"].get<double>(), 2 * (10 * 2e-6 + 3 * 10e-6), 1e-12);
}

TEST(Keys, TheKeyCommandSharesTheStoreWithARunningGateway) {
  TempDir dir;
  FakeUpstream upstream(Answering());
  TestGateway gw(KeysConfig(upstream, dir));
  const std::map<std::string, std::string> env = {{"LITELLM_MASTER_KEY", kTestMasterKey},
                                                  {"CLAUDEGATE_DATA_DIR", dir.path()},
                                                  {"HOME", dir.path()}};
  auto generated = RunClaudegate({.args = {"key", "generate", "--alias", "from-shell", "--rpm", "5",
                                           "--models", "sonnet,haiku"},
                                  .env = env});
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  const json created = json::parse(generated.output);
  const std::string key = created["key"];
  EXPECT_EQ(created["models"], json::array({"sonnet", "haiku"}));

  // The gateway notices within its one-second poll. Asked with the master key (wrong keys would
  // count against the client's auth throttle); no event crosses the process boundary, so this
  // polls, bounded at 5 s.
  EXPECT_TRUE(WaitForKeyInfoStatus(gw.port(), key, 200));
  EXPECT_EQ(Chat(gw.port(), key)->status, 200);

  auto listed = RunClaudegate({.args = {"key", "list"}, .env = env});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(json::parse(listed.output).at(0)["key_alias"], "from-shell");
  EXPECT_EQ(listed.output.find(key), std::string::npos);

  auto bad = RunClaudegate({.args = {"key", "generate", "--rpm", "many"}, .env = env});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  auto deleted = RunClaudegate({.args = {"key", "delete", "from-shell"}, .env = env});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_TRUE(WaitForKeyInfoStatus(gw.port(), key, 404));
  EXPECT_EQ(Chat(gw.port(), key)->status, 401);
}

}  // namespace
}  // namespace claudegate::testing
