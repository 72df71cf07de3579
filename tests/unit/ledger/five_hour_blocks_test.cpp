// 5-hour blocks (ccusage's rule) from hours with usage: table-driven.
#include "claudegate/ledger/five_hour_blocks.hpp"

#include <gtest/gtest.h>

namespace claudegate::ledger {
namespace {

constexpr std::int64_t kH = 3'600'000;

struct BlockCase {
  const char* name;
  std::vector<std::int64_t> hours;
  std::vector<std::int64_t> starts;
};

TEST(FiveHourBlocks, StartAtTheFirstHourAfterTheLastBlockEnded) {
  const std::vector<BlockCase> cases = {
      {"none", {}, {}},
      {"one hour", {7 * kH}, {7 * kH}},
      {"within five hours", {7 * kH, 9 * kH, 11 * kH}, {7 * kH}},
      {"the sixth hour starts a new block", {7 * kH, 12 * kH}, {7 * kH, 12 * kH}},
      {"unordered and repeated", {13 * kH, 7 * kH, 7 * kH, 11 * kH}, {7 * kH, 13 * kH}},
      {"a long gap", {0, 30 * kH, 31 * kH, 36 * kH}, {0, 30 * kH, 36 * kH}},
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
  const auto folded = FoldIntoBlocks({sum(7 * kH, "haiku", 1), sum(7 * kH, "sonnet", 2),
                                      sum(10 * kH, "sonnet", 3), sum(13 * kH, "sonnet", 4)});
  ASSERT_EQ(folded.size(), 3U);
  EXPECT_EQ(folded[0].period_start_ms, 7 * kH);
  EXPECT_EQ(folded[0].model, "haiku");
  EXPECT_EQ(folded[1].model, "sonnet");
  EXPECT_EQ(folded[1].requests, 5);
  EXPECT_EQ(folded[1].input_tokens, 50);
  EXPECT_DOUBLE_EQ(folded[1].cost_usd, 5.0);
  EXPECT_EQ(folded[2].period_start_ms, 13 * kH);
  EXPECT_EQ(folded[2].requests, 4);
}

}  // namespace
}  // namespace claudegate::ledger
