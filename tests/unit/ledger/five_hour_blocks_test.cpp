// 5-hour blocks (ccusage's rule) from hours with usage: table-driven.
#include "claudegate/ledger/five_hour_blocks.hpp"

#include <gtest/gtest.h>

namespace claudegate::ledger {
namespace {

constexpr std::int64_t kBlockHour = 3'600'000;

struct BlockStartCase {
  const char* name;
  std::vector<std::int64_t> hours;
  std::vector<std::int64_t> starts;
};

TEST(FiveHourBlocks, StartAtTheFirstHourAfterTheLastBlockEnded) {
  const std::vector<BlockStartCase> cases = {
      {"none", {}, {}},
      {"one hour", {7 * kBlockHour}, {7 * kBlockHour}},
      {"within five hours", {7 * kBlockHour, 9 * kBlockHour, 11 * kBlockHour}, {7 * kBlockHour}},
      {"the sixth hour starts a new block",
       {7 * kBlockHour, 12 * kBlockHour},
       {7 * kBlockHour, 12 * kBlockHour}},
      {"unordered and repeated",
       {13 * kBlockHour, 7 * kBlockHour, 7 * kBlockHour, 11 * kBlockHour},
       {7 * kBlockHour, 13 * kBlockHour}},
      {"a long gap",
       {0, 30 * kBlockHour, 31 * kBlockHour, 36 * kBlockHour},
       {0, 30 * kBlockHour, 36 * kBlockHour}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(BlockStarts(c.hours), c.starts) << c.name;
  }
}

TEST(FiveHourBlocks, FoldHourlySumsPerBlockModelAndKey) {
  const auto sum = [](std::int64_t hour, std::string model, std::int64_t requests) {
    store::UsageSum s;
    s.period_start_ms = hour;
    s.model = std::move(model);
    s.requests = requests;
    s.input_tokens = requests * 10;
    s.cost_usd = static_cast<double>(requests);
    return s;
  };
  const auto folded =
      FoldIntoBlocks({sum(7 * kBlockHour, "haiku", 1), sum(7 * kBlockHour, "sonnet", 2),
                      sum(10 * kBlockHour, "sonnet", 3), sum(13 * kBlockHour, "sonnet", 4)});
  ASSERT_EQ(folded.size(), 3U);
  EXPECT_EQ(folded[0].period_start_ms, 7 * kBlockHour);
  EXPECT_EQ(folded[0].model, "haiku");
  EXPECT_EQ(folded[1].model, "sonnet");
  EXPECT_EQ(folded[1].requests, 5);
  EXPECT_EQ(folded[1].input_tokens, 50);
  EXPECT_DOUBLE_EQ(folded[1].cost_usd, 5.0);
  EXPECT_EQ(folded[2].period_start_ms, 13 * kBlockHour);
  EXPECT_EQ(folded[2].requests, 4);
}

}  // namespace
}  // namespace claudegate::ledger
