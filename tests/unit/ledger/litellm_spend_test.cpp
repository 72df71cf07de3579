// LiteLLM's spend shapes (/spend/logs, /global/spend/report) over ledger rows and sums: goldens
// against the shapes in https://docs.litellm.ai/docs/proxy/cost_tracking.
#include "claudegate/ledger/litellm_spend.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/ledger/report_query.hpp"

namespace claudegate::ledger {
namespace {

using nlohmann::json;

const std::int64_t kSpendDec8 = *DayStartMs("2026-12-08");
constexpr std::int64_t kSpendDayLength = 86'400'000;

store::UsageSum SpendDaySum(std::int64_t day, std::string model, std::string token, double cost) {
  store::UsageSum sum;
  sum.period_start_ms = day;
  sum.model = std::move(model);
  sum.key_token = std::move(token);
  sum.key_alias = sum.key_token.empty() ? "" : "bot";
  sum.input_tokens = 10;
  sum.cache_read_tokens = 5;
  sum.output_tokens = 2;
  sum.cost_usd = cost;
  return sum;
}

TEST(LiteLlmSpend, SpendLogRowsLookLikeLiteLlmSpendLogs) {
  store::UsageRecord row;
  row.time_ms = kSpendDec8 + 1234;
  row.request_id = "r1";
  row.key_token = std::string(64, 'a');
  row.key_alias = "bot";
  row.route = "/v1/chat/completions";
  row.model = "sonnet";
  row.model_used = "claude-sonnet-5-5";
  row.input_tokens = 10;
  row.cache_read_tokens = 90;
  row.output_tokens = 5;
  row.cost_usd = 0.5;
  row.status = 200;
  row.latency_ms = 1000;
  row.ttft_ms = 250;
  const auto list = json::parse(SpendLogRowsJson({row}));
  ASSERT_EQ(list.size(), 1U);
  const auto& log = list[0];
  EXPECT_EQ(log["request_id"], "r1");
  EXPECT_EQ(log["api_key"], std::string(64, 'a'));
  EXPECT_EQ(log["spend"], 0.5);
  EXPECT_EQ(log["prompt_tokens"], 100);  // OpenAI's count includes the cached part
  EXPECT_EQ(log["completion_tokens"], 5);
  EXPECT_EQ(log["total_tokens"], 105);
  EXPECT_EQ(log["startTime"], "2026-12-08T00:00:01.234Z");
  EXPECT_EQ(log["endTime"], "2026-12-08T00:00:02.234Z");
  EXPECT_EQ(log["completionStartTime"], "2026-12-08T00:00:01.484Z");
  EXPECT_EQ(log["model"], "claude-sonnet-5-5");
  EXPECT_EQ(log["model_group"], "sonnet");
  EXPECT_EQ(log["status"], "success");
  EXPECT_EQ(log["metadata"]["key_alias"], "bot");
  EXPECT_EQ(log["metadata"]["cache_read_input_tokens"], 90);
}

TEST(LiteLlmSpend, SpendLogDaysSumByDayAndFillTheDaysAfter) {
  const auto days =
      json::parse(SpendLogDaysJson({SpendDaySum(kSpendDec8, "claude-haiku-4-5", "", 1.0),
                                    SpendDaySum(kSpendDec8, "claude-sonnet-5-5", "ab", 2.0)},
                                   kSpendDec8 + 3 * kSpendDayLength));
  ASSERT_EQ(days.size(), 3U);
  EXPECT_EQ(days[0]["startTime"], "2026-12-08");
  EXPECT_EQ(days[0]["spend"], 3.0);
  EXPECT_EQ(days[0]["models"], json({{"claude-haiku-4-5", 1.0}, {"claude-sonnet-5-5", 2.0}}));
  EXPECT_EQ(days[0]["ab"], 2.0);
  EXPECT_EQ(days[0]["users"], json::object());
  EXPECT_EQ(days[2], json({{"startTime", "2026-12-10"},
                           {"spend", 0},
                           {"users", json::object()},
                           {"models", json::object()}}));
  EXPECT_EQ(SpendLogDaysJson({}, kSpendDec8), "[]");
}

TEST(LiteLlmSpend, GlobalSpendReportByTeamAndByKey) {
  const std::vector<store::UsageSum> sums = {
      SpendDaySum(kSpendDec8, "claude-sonnet-5-5", "ab", 2.0),
      SpendDaySum(kSpendDec8 + kSpendDayLength, "claude-haiku-4-5", "", 1.0)};
  const auto teams = json::parse(GlobalSpendByTeamJson(sums));
  ASSERT_EQ(teams.size(), 2U);
  EXPECT_EQ(teams[0]["group_by_day"], "2026-12-08T00:00:00+00:00");
  EXPECT_EQ(teams[0]["teams"][0]["team_name"], "Unassigned Team");
  EXPECT_EQ(teams[0]["teams"][0]["total_spend"], 2.0);
  EXPECT_EQ(teams[0]["teams"][0]["metadata"][0], json({{"model", "claude-sonnet-5-5"},
                                                       {"spend", 2.0},
                                                       {"total_tokens", 17},
                                                       {"api_key", "ab"}}));

  const auto keys = json::parse(GlobalSpendByKeyJson(sums));
  ASSERT_EQ(keys.size(), 2U);
  EXPECT_EQ(keys[0]["api_key"], "");
  EXPECT_EQ(keys[0]["key_alias"], "master");
  EXPECT_EQ(keys[1]["api_key"], "ab");
  EXPECT_EQ(keys[1]["total_cost"], 2.0);
  EXPECT_EQ(keys[1]["total_input_tokens"], 15);
  EXPECT_EQ(keys[1]["total_output_tokens"], 2);
  EXPECT_EQ(keys[1]["model_details"][0]["model"], "claude-sonnet-5-5");
}

}  // namespace
}  // namespace claudegate::ledger
