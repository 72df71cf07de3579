// The usage ledger through the real gateway (issue #19): every model request a row (never an
// unauthenticated one), the reports by key, model, day and block in JSON and CSV, LiteLLM's spend
// routes, who may read them, and the rows across a restart and a kill -9 — SQLite real in a
// per-test directory, the TLS fake upstream, the daemon as a child process for the kill.
#include <csignal>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/ledger/report_query.hpp"

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

// MessagesAs calls answer "ok" with 10 input and 3 output tokens and Anthropic's request-id.
Handler AnsweringWithRequestIds() {
  return [](const RecordedRequest& request) {
    ScriptedResponse response;
    if (request.JsonBody().value("stream", false)) {
      response.headers.emplace_back("content-type", "text/event-stream");
      response.chunks = TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 10, 3);
    } else {
      response = JsonResponse(TextMessage("claude-sonnet-5-5", "ok", 10, 3));
    }
    response.headers.emplace_back("request-id", "req_011CUpstream");
    return response;
  };
}

config::Config UsageConfig(const FakeUpstream& upstream, const TempDir& dir) {
  auto config = ConfigFor(upstream);
  config.store.enabled = true;
  config.store.data_dir = dir.path();
  return config;
}

json GetOk(std::uint16_t port, const std::string& target, std::string_view key = kTestMasterKey) {
  auto reply = Fetch(port, http::verb::get, target, key);
  EXPECT_TRUE(reply);
  if (!reply) {
    return {};
  }
  EXPECT_EQ(reply->status, 200) << target << ": " << reply->body();
  return json::parse(reply->body(), nullptr, false);
}

std::optional<TestResponse> ChatAs(std::uint16_t port, std::string_view key) {
  const json body = {{"model", "sonnet"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  return Fetch(port, http::verb::post, "/v1/chat/completions", key, body.dump());
}

std::optional<TestResponse> MessagesAs(std::uint16_t port, std::string_view key, bool stream) {
  const json body = {{"model", "haiku"},
                     {"max_tokens", 16},
                     {"stream", stream},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  return Fetch(port, http::verb::post, "/v1/messages", key, body.dump(),
               {{"anthropic-version", "2023-06-01"}});
}

std::string NewAliasedKey(std::uint16_t port, const std::string& alias) {
  auto reply = Fetch(port, http::verb::post, "/key/generate", kTestMasterKey,
                     json{{"key_alias", alias}}.dump());
  EXPECT_TRUE(reply && reply->status == 200);
  return reply ? json::parse(reply->body()).value("key", "") : "";
}

// A row is recorded once the reply has gone out, which the client may see first: waits (at most
// 5 s) until the ledger holds `rows` rows.
bool WaitForRows(std::uint16_t port, int rows) {
  return PollUntil([&] {
    auto reply = Fetch(port, http::verb::get, "/usage/report?since=1h", kTestMasterKey);
    return reply && reply->status == 200 &&
           json::parse(reply->body(), nullptr, false)["totals"].value("requests", -1) >= rows;
  });
}

const json* GroupWithKey(const json& report, const std::string& key) {
  for (const auto& row : report["data"]) {
    if (row.value("key", "") == key) {
      return &row;
    }
  }
  return nullptr;
}

TEST(Usage, EveryModelRequestIsARowInTheReports) {
  TempDir dir;
  FakeUpstream upstream(AnsweringWithRequestIds());
  TestGateway gw(UsageConfig(upstream, dir));
  const std::string key = NewAliasedKey(gw.port(), "ci-bot");

  for (int i = 0; i < 2; ++i) {
    auto chat = ChatAs(gw.port(), kTestMasterKey);
    ASSERT_TRUE(chat && chat->status == 200);
  }
  for (const bool stream : {false, true, true}) {
    auto messages = MessagesAs(gw.port(), key, stream);
    ASSERT_TRUE(messages && messages->status == 200) << (messages ? messages->body() : "");
  }
  auto bad = Fetch(gw.port(), http::verb::post, "/v1/messages", key, "{not json",
                   {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(bad && bad->status == 400);
  // Not model requests, or not authenticated: no rows.
  ASSERT_TRUE(Fetch(gw.port(), http::verb::get, "/v1/models", key));
  auto stranger = ChatAs(gw.port(), "sk-wrong-key-wrong-key-wrong-key");
  ASSERT_TRUE(stranger && stranger->status == 401);
  ASSERT_TRUE(WaitForRows(gw.port(), 6));

  const json by_key = GetOk(gw.port(), "/usage/report?group_by=key");
  EXPECT_EQ(by_key["totals"]["requests"], 6) << by_key.dump();
  EXPECT_EQ(by_key["totals"]["errors"], 1);
  EXPECT_EQ(by_key["totals"]["input_tokens"], 50);
  EXPECT_EQ(by_key["totals"]["output_tokens"], 15);
  const json* master = GroupWithKey(by_key, "master");
  const json* bot = GroupWithKey(by_key, "ci-bot");
  ASSERT_TRUE(master && bot) << by_key.dump();
  EXPECT_EQ((*master)["requests"], 2);
  EXPECT_EQ((*master)["input_tokens"], 20);
  EXPECT_EQ((*bot)["requests"], 4);
  EXPECT_EQ((*bot)["errors"], 1);
  EXPECT_GT((*bot)["cost_usd"].get<double>(), 0.0);

  const json by_model = GetOk(gw.port(), "/usage/report?group_by=day,model&since=1h");
  ASSERT_EQ(by_model["group_by"], json({"day", "model"}));
  ASSERT_EQ(by_model["data"].size(), 3U) << by_model.dump();  // haiku, sonnet, and the 400
  bool saw_haiku = false;
  for (const auto& row : by_model["data"]) {
    if (row["model"].get<std::string>().starts_with("claude-haiku")) {
      saw_haiku = true;
      EXPECT_EQ(row["requests"], 3);
    }
  }
  EXPECT_TRUE(saw_haiku) << by_model.dump();

  const json blocks = GetOk(gw.port(), "/usage/report?group_by=block");
  ASSERT_EQ(blocks["data"].size(), 1U);
  EXPECT_EQ(blocks["data"][0]["requests"], 6);

  const json logs = GetOk(gw.port(), "/usage/logs?key_alias=ci-bot&limit=2");
  ASSERT_EQ(logs["data"].size(), 2U);
  EXPECT_EQ(logs["has_more"], true);
  const json newest = logs["data"][0];
  EXPECT_EQ(newest["status"], 400);
  EXPECT_EQ(newest["route"], "/v1/messages");
  EXPECT_EQ(newest["error"], "invalid_json");
  const json streamed = logs["data"][1];
  EXPECT_EQ(streamed["stream"], true);
  EXPECT_EQ(streamed["model"], "haiku");
  EXPECT_EQ(streamed["upstream_request_id"], "req_011CUpstream");
  EXPECT_TRUE(streamed["ttft_ms"].is_number()) << streamed.dump();
  // Content never reaches the ledger.
  auto all = Fetch(gw.port(), http::verb::get, "/usage/logs?format=csv", kTestMasterKey);
  ASSERT_TRUE(all && all->status == 200);
  EXPECT_EQ(all->header("content-type"), "text/csv; charset=utf-8");
  EXPECT_TRUE(all->body().starts_with("time,request_id,key,route,")) << all->body();
  EXPECT_EQ(all->body().find("hi"), std::string::npos);
}

TEST(Usage, LiteLlmSpendRoutesAnswerInTheirShapes) {
  TempDir dir;
  FakeUpstream upstream(AnsweringWithRequestIds());
  TestGateway gw(UsageConfig(upstream, dir));
  const std::string key = NewAliasedKey(gw.port(), "bot");
  ASSERT_TRUE(ChatAs(gw.port(), key));
  ASSERT_TRUE(ChatAs(gw.port(), kTestMasterKey));
  ASSERT_TRUE(WaitForRows(gw.port(), 2));
  const std::string today = ledger::DayOf(ledger::SystemMillisClock()());

  const json rows = GetOk(gw.port(), "/spend/logs?api_key=" + key);
  ASSERT_EQ(rows.size(), 1U) << rows.dump();
  EXPECT_EQ(rows[0]["api_key"].get<std::string>().size(), 64U);  // the hash, never the key
  EXPECT_EQ(rows[0]["prompt_tokens"], 10);
  EXPECT_EQ(rows[0]["model_group"], "sonnet");
  EXPECT_GT(rows[0]["spend"].get<double>(), 0.0);

  const json days = GetOk(gw.port(), "/spend/logs?start_date=" + today + "&end_date=" + today);
  ASSERT_EQ(days.size(), 1U) << days.dump();
  EXPECT_EQ(days[0]["startTime"], today);
  EXPECT_EQ(days[0]["models"].size(), 1U);

  const json teams =
      GetOk(gw.port(), "/global/spend/report?start_date=" + today + "&end_date=" + today);
  ASSERT_EQ(teams.size(), 1U);
  EXPECT_EQ(teams[0]["teams"][0]["team_name"], "Unassigned Team");
  EXPECT_EQ(teams[0]["teams"][0]["metadata"].size(), 2U);

  const json one_key = GetOk(gw.port(), "/global/spend/report?start_date=" + today +
                                            "&end_date=" + today + "&api_key=" + key);
  ASSERT_EQ(one_key.size(), 1U);
  EXPECT_EQ(one_key[0]["total_input_tokens"], 10);
  EXPECT_EQ(one_key[0]["model_details"][0]["total_output_tokens"], 3);

  auto missing = Fetch(gw.port(), http::verb::get, "/global/spend/report", kTestMasterKey);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(json::parse(missing->body())["error"]["param"], "start_date");
}

TEST(Usage, OnlyTheMasterKeyReadsReportsAndBadParametersAreNamed) {
  TempDir dir;
  FakeUpstream upstream(AnsweringWithRequestIds());
  TestGateway gw(UsageConfig(upstream, dir));
  const std::string key = NewAliasedKey(gw.port(), "reader");
  for (const char* target : {"/usage/report", "/usage/logs", "/spend/logs"}) {
    auto refused = Fetch(gw.port(), http::verb::get, target, key);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403) << target;
    auto stranger = Fetch(gw.port(), http::verb::get, target);
    ASSERT_TRUE(stranger);
    EXPECT_EQ(stranger->status, 401) << target;
  }
  auto bad = Fetch(gw.port(), http::verb::get, "/usage/report?group_by=week", kTestMasterKey);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  const json error = json::parse(bad->body());
  EXPECT_EQ(error["error"]["param"], "group_by");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("week"), std::string::npos);

  // Without a store the reports say so.
  auto config = ConfigFor(upstream);
  config.store.enabled = false;
  TestGateway no_store(std::move(config));
  auto off = Fetch(no_store.port(), http::verb::get, "/usage/report", kTestMasterKey);
  ASSERT_TRUE(off);
  EXPECT_EQ(off->status, 503);
}

TEST(Usage, RowsSurviveARestart) {
  TempDir dir;
  FakeUpstream upstream(AnsweringWithRequestIds());
  {
    TestGateway gw(UsageConfig(upstream, dir));
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(ChatAs(gw.port(), kTestMasterKey));
    }
  }  // shutdown writes the queued rows
  TestGateway again(UsageConfig(upstream, dir));
  const json report = GetOk(again.port(), "/usage/report");
  EXPECT_EQ(report["totals"]["requests"], 3) << report.dump();
  EXPECT_EQ(report["totals"]["output_tokens"], 9);
}

// The metric's value in a /metrics scrape, 0 when absent.
double ScrapedValue(std::uint16_t port, const std::string& series) {
  auto scrape = Fetch(port, http::verb::get, "/metrics", "sk-usage-test-master-key-0123456789");
  if (!scrape || scrape->status != 200) {
    return -1;
  }
  const auto at = scrape->body().find(series + " ");
  return at == std::string::npos ? 0 : std::stod(scrape->body().substr(at + series.size() + 1));
}

TEST(Usage, RowsTheWriterWroteSurviveKillNine) {
  TempDir dir;
  const std::string master = "sk-usage-test-master-key-0123456789";
  const std::map<std::string, std::string> env = {
      {"LITELLM_MASTER_KEY", master}, {"CLAUDEGATE_DATA_DIR", dir.path()}, {"HOME", dir.path()}};
  std::uint16_t port = 0;
  {
    ClaudegateProcess daemon({.args = {"--host", "127.0.0.1", "--port", "0"}, .env = env});
    ASSERT_TRUE(daemon.started());
    port = daemon.WaitForPort(std::chrono::seconds(15));
    ASSERT_NE(port, 0) << daemon.output();
    // No credentials: each call is answered 503 at once, and is still a row.
    for (int i = 0; i < 4; ++i) {
      auto chat = ChatAs(port, master);
      ASSERT_TRUE(chat && chat->status == 503);
    }
    // The background writer (every 250 ms) says it wrote them; bounded wait on its counter.
    const std::string written = "claudegate_usage_rows_total{outcome=\"written\"}";
    const bool done = PollUntil([&] { return ScrapedValue(port, written) >= 4; });
    ASSERT_TRUE(done) << "the ledger writer did not write 4 rows within 5 s";
    daemon.Signal(SIGKILL);
    EXPECT_EQ(daemon.Wait(), -SIGKILL);
  }
  ClaudegateProcess again({.args = {"--host", "127.0.0.1", "--port", "0"}, .env = env});
  port = again.WaitForPort(std::chrono::seconds(15));
  ASSERT_NE(port, 0) << again.output();
  const json logs = GetOk(port, "/usage/logs", master);
  ASSERT_EQ(logs["data"].size(), 4U) << logs.dump();
  EXPECT_EQ(logs["data"][0]["status"], 503);
  EXPECT_EQ(logs["data"][0]["route"], "/v1/chat/completions");
}

}  // namespace
}  // namespace claudegate::testing
