// The report bodies: JSON and CSV goldens, CSV quoting and formula neutralising, key labels.
#include "claudegate/ledger/report_render.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace claudegate::ledger {
namespace {

using nlohmann::json;

const std::int64_t kRenderDec8 = *DayStartMs("2026-12-08");

store::UsageSum RenderSum(std::string model, std::string alias, std::string token) {
  store::UsageSum sum;
  sum.period_start_ms = kRenderDec8;
  sum.model = std::move(model);
  sum.key_alias = std::move(alias);
  sum.key_token = std::move(token);
  sum.requests = 3;
  sum.errors = 1;
  sum.retries = 2;
  sum.input_tokens = 100;
  sum.output_tokens = 20;
  sum.cache_read_tokens = 300;
  sum.cache_write_tokens = 5;
  sum.cost_usd = 0.25;
  return sum;
}

ReportQuery RenderDayModelKey() {
  ReportQuery query;
  query.filter.from_ms = kRenderDec8;
  query.filter.to_ms = kRenderDec8 + 86'400'000;
  query.grouping.period = store::UsageGrouping::Period::kDay;
  query.grouping.by_model = true;
  query.grouping.by_key = true;
  return query;
}

TEST(ReportRender, CsvFieldsAreQuotedAndNeverFormulas) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"claude-sonnet-5-5", "claude-sonnet-5-5"},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""},
      {"+1", "'+1"},
      {"-1", "'-1"},
      {"@sum", "'@sum"},
      {"", ""},
  };
  for (const auto& [text, field] : cases) {
    EXPECT_EQ(CsvField(text), field) << text;
  }
}

TEST(ReportRender, KeysAreNamedByAliasAndTheMasterKeyAsMaster) {
  EXPECT_EQ(KeyLabel("", ""), "master");
  EXPECT_EQ(KeyLabel("ci-bot", std::string(64, 'a')), "ci-bot");
  EXPECT_EQ(KeyLabel("", std::string(64, 'a')), std::string(12, 'a'));
}

TEST(ReportRender, ReportJsonGolden) {
  const auto body =
      json::parse(ReportJson(RenderDayModelKey(), {RenderSum("claude-sonnet-5-5", "", ""),
                                                   RenderSum("claude-haiku-4-5", "bot", "ab")}));
  const json row = {{"period_start", "2026-12-08T00:00:00Z"},
                    {"period_end", "2026-12-09T00:00:00Z"},
                    {"model", "claude-sonnet-5-5"},
                    {"key", "master"},
                    {"requests", 3},
                    {"errors", 1},
                    {"retries", 2},
                    {"input_tokens", 100},
                    {"output_tokens", 20},
                    {"cache_read_tokens", 300},
                    {"cache_write_tokens", 5},
                    {"total_tokens", 425},
                    {"cost_usd", 0.25}};
  EXPECT_EQ(body["object"], "usage.report");
  EXPECT_EQ(body["start"], "2026-12-08T00:00:00Z");
  EXPECT_EQ(body["end"], "2026-12-09T00:00:00Z");
  EXPECT_EQ(body["group_by"], json({"day", "model", "key"}));
  EXPECT_EQ(body["data"][0], row);
  EXPECT_EQ(body["data"][1]["key"], "bot");
  EXPECT_EQ(body["totals"]["requests"], 6);
  EXPECT_EQ(body["totals"]["total_tokens"], 850);
  EXPECT_DOUBLE_EQ(body["totals"]["cost_usd"].get<double>(), 0.5);
}

TEST(ReportRender, ReportCsvGolden) {
  EXPECT_EQ(ReportCsv(RenderDayModelKey(), {RenderSum("claude-sonnet-5-5", "", "")}),
            "period_start,period_end,model,key,requests,errors,retries,input_tokens,"
            "output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd\r\n"
            "2026-12-08T00:00:00Z,2026-12-09T00:00:00Z,claude-sonnet-5-5,master,3,1,2,100,20,300,"
            "5,425,0.250000\r\n");
  ReportQuery totals_only;
  EXPECT_EQ(ReportCsv(totals_only, {}),
            "requests,errors,retries,input_tokens,output_tokens,cache_read_tokens,"
            "cache_write_tokens,total_tokens,cost_usd\r\n");
}

TEST(ReportRender, RowsAsJsonAndCsv) {
  store::UsageRecord row;
  row.time_ms = kRenderDec8 + 1500;
  row.request_id = "r1";
  row.key_alias = "bot";
  row.key_token = "ab";
  row.route = "/v1/messages";
  row.model = "sonnet";
  row.model_used = "claude-sonnet-5-5";
  row.input_tokens = 7;
  row.status = 200;
  row.latency_ms = 30;
  row.upstream_request_id = "req_011";
  const auto body = json::parse(RowsJson({row}, true));
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["has_more"], true);
  EXPECT_EQ(body["data"][0]["time"], "2026-12-08T00:00:01Z");
  EXPECT_EQ(body["data"][0]["key"], "bot");
  EXPECT_EQ(body["data"][0]["ttft_ms"], nullptr);
  EXPECT_EQ(body["data"][0]["upstream_request_id"], "req_011");
  const std::string csv = RowsCsv({row});
  EXPECT_NE(csv.find("\r\n2026-12-08T00:00:01Z,r1,bot,/v1/messages,sonnet,claude-sonnet-5-5,false,"
                     "7,0,0,0,0.000000,200,,30,,req_011,0\r\n"),
            std::string::npos)
      << csv;
}

}  // namespace
}  // namespace claudegate::ledger
