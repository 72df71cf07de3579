// The usage reports' query strings: dates, durations, groupings, filters and every refusal.
#include "claudegate/ledger/report_query.hpp"

#include <gtest/gtest.h>

namespace claudegate::ledger {
namespace {

constexpr std::int64_t kQueryDayLength = 86'400'000;
// 2026-12-08T13:30:00Z.
const std::int64_t kQueryNow = *DayStartMs("2026-12-08") + 13 * 3'600'000 + 30 * 60'000;

TEST(ReportQuery, DaysAreUtcAndTheEndDayIsIncluded) {
  EXPECT_EQ(DayStartMs("1970-01-01"), 0);
  EXPECT_EQ(DayStartMs("2026-12-08"), 1'796'688'000'000);
  EXPECT_EQ(DayOf(1'796'688'000'000 + kQueryDayLength - 1), "2026-12-08");
  EXPECT_EQ(IsoTime(1'796'688'000'000 + 3'723'000), "2026-12-08T01:02:03Z");
  for (const char* bad :
       {"2026-13-01", "2026-02-30", "26-12-08", "2026/12/08", "", "1969-12-31", "2026-12-8x"}) {
    EXPECT_FALSE(DayStartMs(bad)) << bad;
  }
  auto query =
      ParseReportQuery("/usage/report?start_date=2026-12-01&end_date=2026-12-07", kQueryNow);
  ASSERT_TRUE(query);
  EXPECT_EQ(query->filter.from_ms, *DayStartMs("2026-12-01"));
  EXPECT_EQ(query->filter.to_ms, *DayStartMs("2026-12-08"));
}

TEST(ReportQuery, DefaultsToTheLastSevenDaysAsJson) {
  auto query = ParseReportQuery("/usage/report", kQueryNow);
  ASSERT_TRUE(query);
  EXPECT_EQ(query->filter.from_ms, *DayStartMs("2026-12-02"));
  EXPECT_EQ(query->filter.to_ms, *DayStartMs("2026-12-09"));
  EXPECT_EQ(query->format, ReportFormat::kJson);
  EXPECT_EQ(query->grouping.period, store::UsageGrouping::Period::kNone);
  EXPECT_EQ(query->limit, 1000);
}

TEST(ReportQuery, SinceCountsBackFromNow) {
  auto query = ParseReportQuery("/usage/report?since=24h", kQueryNow);
  ASSERT_TRUE(query);
  EXPECT_EQ(query->filter.from_ms, kQueryNow - kQueryDayLength);
  EXPECT_EQ(query->filter.to_ms, kQueryNow + 1);
}

TEST(ReportQuery, GroupingsFiltersAndFormat) {
  auto query = ParseReportQuery(
      "/usage/report?group_by=block,model,key&key_alias=ci-bot&model=claude-haiku-4-5&format=csv"
      "&limit=50&offset=100",
      kQueryNow);
  ASSERT_TRUE(query);
  EXPECT_TRUE(query->by_block);
  EXPECT_EQ(query->grouping.period, store::UsageGrouping::Period::kHour);
  EXPECT_TRUE(query->grouping.by_model);
  EXPECT_TRUE(query->grouping.by_key);
  EXPECT_EQ(query->filter.key_alias, "ci-bot");
  EXPECT_EQ(query->filter.model, "claude-haiku-4-5");
  EXPECT_EQ(query->format, ReportFormat::kCsv);
  EXPECT_EQ(query->limit, 50);
  EXPECT_EQ(query->offset, 100);
  auto day = ParseReportQuery("/usage/report?group_by=day&key_alias=a%20b", kQueryNow);
  ASSERT_TRUE(day);
  EXPECT_EQ(day->grouping.period, store::UsageGrouping::Period::kDay);
  EXPECT_EQ(day->filter.key_alias, "a b");
}

TEST(ReportQuery, EveryBadParameterIsNamed) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"/usage/report?start_date=yesterday", "start_date"},
      {"/usage/report?end_date=2026-02-30", "end_date"},
      {"/usage/report?start_date=2026-12-08&end_date=2026-12-01", "end_date"},
      {"/usage/report?since=forever", "since"},
      {"/usage/report?since=0h", "since"},
      {"/usage/report?since=99999d", "since"},
      {"/usage/report?since=1h&start_date=2026-12-01", "since"},
      {"/usage/report?group_by=week", "group_by"},
      {"/usage/report?group_by=day,hour", "group_by"},
      {"/usage/report?format=xml", "format"},
      {"/usage/report?limit=0", "limit"},
      {"/usage/report?limit=10001", "limit"},
      {"/usage/report?offset=-1", "offset"},
  };
  for (const auto& [target, param] : cases) {
    auto query = ParseReportQuery(target, kQueryNow);
    ASSERT_FALSE(query) << target;
    EXPECT_EQ(query.error().param, param) << target;
    EXPECT_EQ(query.error().kind, ErrorKind::kInvalidRequest) << target;
  }
}

}  // namespace
}  // namespace claudegate::ledger
