// The SQLite UsageStore against a real database in a temporary directory (issue #19): rows in,
// sums out by period, model and key with every filter, rows back newest first and paged, pruning
// by age, a reopen, and UsageLedger's queue over it (a failed batch kept, a full queue counted).
#include "claudegate/store/sqlite/sqlite_usage_store.hpp"

#include <gtest/gtest.h>

#include "claudegate/ledger/usage_ledger.hpp"

#include "unit/store/store_test_support.hpp"

namespace claudegate::store::testing {
namespace {

constexpr std::int64_t kUsageHourMs = 3'600'000;
constexpr std::int64_t kUsageDayMs = 24 * kUsageHourMs;
// 2027-01-15T00:00:00Z: a day boundary, so day sums are easy to read.
constexpr std::int64_t kUsageDay0 = 1'800'000'000'000 / kUsageDayMs * kUsageDayMs;

UsageRecord UsageRow(std::int64_t time_ms, std::string key_alias, std::string model_used,
                     std::int64_t input, std::int64_t output, int status = 200) {
  UsageRecord row;
  row.time_ms = time_ms;
  row.request_id = "req-" + std::to_string(time_ms);
  row.key_alias = std::move(key_alias);
  row.key_token = row.key_alias.empty() ? "" : std::string(64, row.key_alias[0]);
  row.route = "/v1/chat/completions";
  row.model = "sonnet";
  row.model_used = std::move(model_used);
  row.input_tokens = input;
  row.output_tokens = output;
  row.cache_read_tokens = input / 2;
  row.cache_write_tokens = 1;
  row.cost_usd = 0.001 * static_cast<double>(input + output);
  row.status = status;
  row.error = status >= 400 ? "overloaded_error" : "";
  row.latency_ms = 120;
  row.ttft_ms = status >= 400 ? std::nullopt : std::optional<std::int64_t>(40);
  row.upstream_request_id = "req_up_" + std::to_string(time_ms);
  row.retries = status >= 400 ? 2 : 0;
  return row;
}

std::vector<UsageRecord> SomeUsageTraffic() {
  return {UsageRow(kUsageDay0 + 1 * kUsageHourMs, "", "claude-sonnet-5-5", 100, 10),
          UsageRow(kUsageDay0 + 2 * kUsageHourMs, "ci-bot", "claude-sonnet-5-5", 200, 20),
          UsageRow(kUsageDay0 + 2 * kUsageHourMs + 5, "ci-bot", "claude-haiku-4-5", 300, 30),
          UsageRow(kUsageDay0 + kUsageDayMs + 3, "ci-bot", "claude-sonnet-5-5", 400, 40, 529)};
}

UsageFilter AllUsage() {
  UsageFilter filter;
  filter.from_ms = kUsageDay0;
  filter.to_ms = kUsageDay0 + 2 * kUsageDayMs;
  return filter;
}

class SqliteUsageStoreTest : public ::testing::Test, public StoreFixture {
 protected:
  std::shared_ptr<UsageStore> OpenUsage() { return MakeUsageStore(settings); }
};

TEST_F(SqliteUsageStoreTest, RowsRoundTripNewestFirstAndSurviveAReopen) {
  {
    auto usage = OpenUsage();
    ASSERT_TRUE(usage);
    ASSERT_TRUE(RunSync(usage->Append(SomeUsageTraffic())));
  }
  auto usage = OpenUsage();
  auto rows = RunSync(usage->Rows(AllUsage(), 10, 0));
  ASSERT_EQ(rows.status, LookupStatus::kFound);
  ASSERT_EQ(rows.value.size(), 4U);
  EXPECT_EQ(rows.value[0].time_ms, kUsageDay0 + kUsageDayMs + 3);
  EXPECT_EQ(rows.value[0].status, 529);
  EXPECT_EQ(rows.value[0].error, "overloaded_error");
  EXPECT_EQ(rows.value[0].retries, 2);
  EXPECT_FALSE(rows.value[0].ttft_ms);
  const UsageRecord expected = SomeUsageTraffic()[0];
  const UsageRecord& oldest = rows.value[3];
  EXPECT_EQ(oldest.request_id, expected.request_id);
  EXPECT_EQ(oldest.key_token, "");
  EXPECT_EQ(oldest.model_used, "claude-sonnet-5-5");
  EXPECT_EQ(oldest.cache_read_tokens, 50);
  EXPECT_EQ(oldest.ttft_ms, 40);
  EXPECT_EQ(oldest.upstream_request_id, expected.upstream_request_id);
  EXPECT_DOUBLE_EQ(oldest.cost_usd, expected.cost_usd);
  // Paging.
  auto page = RunSync(usage->Rows(AllUsage(), 2, 1));
  ASSERT_EQ(page.value.size(), 2U);
  EXPECT_EQ(page.value[0].time_ms, kUsageDay0 + 2 * kUsageHourMs + 5);
  EXPECT_EQ(Query("PRAGMA user_version"), "4");
}

TEST_F(SqliteUsageStoreTest, SumsGroupByDayModelAndKey) {
  auto usage = OpenUsage();
  ASSERT_TRUE(RunSync(usage->Append(SomeUsageTraffic())));

  auto total = RunSync(usage->Sum(AllUsage(), {}));
  ASSERT_EQ(total.value.size(), 1U);
  EXPECT_EQ(total.value[0].requests, 4);
  EXPECT_EQ(total.value[0].errors, 1);
  EXPECT_EQ(total.value[0].retries, 2);
  EXPECT_EQ(total.value[0].input_tokens, 1000);
  EXPECT_EQ(total.value[0].output_tokens, 100);
  EXPECT_EQ(total.value[0].cache_read_tokens, 500);
  EXPECT_EQ(total.value[0].cache_write_tokens, 4);
  EXPECT_NEAR(total.value[0].cost_usd, 1.1, 1e-9);

  UsageGrouping by_day_and_key;
  by_day_and_key.period = UsageGrouping::Period::kDay;
  by_day_and_key.by_key = true;
  auto days = RunSync(usage->Sum(AllUsage(), by_day_and_key));
  ASSERT_EQ(days.value.size(), 3U);
  EXPECT_EQ(days.value[0].period_start_ms, kUsageDay0);
  EXPECT_EQ(days.value[0].key_token, "");  // the master key sorts first
  EXPECT_EQ(days.value[0].requests, 1);
  EXPECT_EQ(days.value[1].key_alias, "ci-bot");
  EXPECT_EQ(days.value[1].requests, 2);
  EXPECT_EQ(days.value[1].input_tokens, 500);
  EXPECT_EQ(days.value[2].period_start_ms, kUsageDay0 + kUsageDayMs);

  UsageGrouping by_hour_and_model;
  by_hour_and_model.period = UsageGrouping::Period::kHour;
  by_hour_and_model.by_model = true;
  auto hours = RunSync(usage->Sum(AllUsage(), by_hour_and_model));
  ASSERT_EQ(hours.value.size(), 4U);
  EXPECT_EQ(hours.value[1].period_start_ms, kUsageDay0 + 2 * kUsageHourMs);
  EXPECT_EQ(hours.value[1].model, "claude-haiku-4-5");
  EXPECT_EQ(hours.value[2].model, "claude-sonnet-5-5");
}

TEST_F(SqliteUsageStoreTest, FiltersSelectKeysModelsRequestsAndTime) {
  auto usage = OpenUsage();
  ASSERT_TRUE(RunSync(usage->Append(SomeUsageTraffic())));
  const auto count = [&](UsageFilter filter) {
    auto sums = RunSync(usage->Sum(std::move(filter), {}));
    return sums.value.empty() ? 0 : sums.value[0].requests;
  };
  auto filter = AllUsage();
  filter.key_alias = "ci-bot";
  EXPECT_EQ(count(filter), 3);
  filter.key_alias = "master";
  EXPECT_EQ(count(filter), 1);
  filter = AllUsage();
  filter.model = "claude-haiku-4-5";  // the model used
  EXPECT_EQ(count(filter), 1);
  filter.model = "sonnet";  // the model asked for
  EXPECT_EQ(count(filter), 4);
  filter = AllUsage();
  filter.key_token = std::string(64, 'c');
  EXPECT_EQ(count(filter), 3);
  filter = AllUsage();
  filter.request_id = "req-" + std::to_string(kUsageDay0 + kUsageHourMs);
  EXPECT_EQ(count(filter), 1);
  filter = AllUsage();
  filter.to_ms = kUsageDay0 + kUsageDayMs;  // the first day only, end exclusive
  EXPECT_EQ(count(filter), 3);
  filter.key_alias = "nobody";
  EXPECT_EQ(count(filter), 0);
}

TEST_F(SqliteUsageStoreTest, PruningRemovesOnlyOlderRows) {
  auto usage = OpenUsage();
  ASSERT_TRUE(RunSync(usage->Append(SomeUsageTraffic())));
  EXPECT_EQ(RunSync(usage->PruneOlderThan(kUsageDay0 + 2 * kUsageHourMs)), 1);
  EXPECT_EQ(RunSync(usage->PruneOlderThan(kUsageDay0 + 2 * kUsageHourMs)), 0);
  EXPECT_EQ(Query("SELECT count(*) FROM usage"), "3");
}

TEST_F(SqliteUsageStoreTest, TheLedgerWritesItsQueueAndKeepsWhatFailed) {
  auto usage = OpenUsage();
  ledger::UsageLedger ledger(&metrics, 3);
  for (auto& row : SomeUsageTraffic()) {
    ledger.Record(std::move(row));  // the fourth is one too many
  }
  EXPECT_EQ(ledger.queued(), 3U);
  EXPECT_EQ(metrics.usage_rows.Value({"dropped"}), 1.0);
  ASSERT_TRUE(RunSync(ledger.Write(*usage)));
  EXPECT_EQ(ledger.queued(), 0U);
  EXPECT_EQ(metrics.usage_rows.Value({"written"}), 3.0);
  EXPECT_EQ(Query("SELECT count(*) FROM usage"), "3");

  // A store that refuses the write: the rows stay queued, ahead of newer ones.
  (void)Query(
      "CREATE TRIGGER refuse BEFORE INSERT ON usage BEGIN SELECT RAISE(ABORT, 'full'); END");
  ledger.Record(UsageRow(kUsageDay0 + 10, "a", "m", 1, 1));
  EXPECT_FALSE(RunSync(ledger.Write(*usage)));
  EXPECT_EQ(metrics.usage_rows.Value({"failed"}), 1.0);
  ledger.Record(UsageRow(kUsageDay0 + 20, "b", "m", 1, 1));
  ASSERT_EQ(ledger.queued(), 2U);
  (void)Query("DROP TRIGGER refuse");
  EXPECT_TRUE(ledger.WriteNow(*usage));
  EXPECT_EQ(Query("SELECT group_concat(key_alias) FROM (SELECT key_alias FROM usage "
                  "WHERE time_ms < " +
                  std::to_string(kUsageDay0 + 100) + " ORDER BY seq)"),
            "a,b");
}

}  // namespace
}  // namespace claudegate::store::testing
