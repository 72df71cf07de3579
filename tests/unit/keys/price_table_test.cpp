// keys/price_table: Anthropic's list prices by model id (docs/keys.md, "Prices").
#include "claudegate/keys/price_table.hpp"

#include <gtest/gtest.h>

namespace claudegate::keys {
namespace {

struct PriceCase {
  const char* model;
  double input;
  double output;
  double cache_read;
};

TEST(PriceTable, TheLongestPrefixWins) {
  const PriceCase cases[] = {
      {"claude-opus-5-5", 4.0, 20.0, 0.2},
      {"claude-opus-4-5-20251101", 5.0, 25.0, 0.5},
      {"claude-opus-4-1-20250805", 15.0, 75.0, 1.5},
      {"claude-opus-4-20250514", 15.0, 75.0, 1.5},
      {"claude-sonnet-5-5", 2.0, 10.0, 0.1},
      {"claude-sonnet-4-6", 3.0, 15.0, 0.3},
      {"claude-haiku-5-5", 0.1, 0.5, 0.01},
      {"claude-haiku-4-5-20251001", 1.0, 5.0, 0.1},
      {"claude-3-5-haiku-20241022", 0.8, 4.0, 0.08},
      {"claude-3-haiku-20240307", 0.25, 1.25, 0.03},
      {"claude-fable-5-1", 10.0, 50.0, 0.25},
      {"claude-future-9", 3.0, 15.0, 0.3},  // unknown: Sonnet's price, never free
  };
  for (const auto& c : cases) {
    const auto price = PriceFor(c.model);
    EXPECT_DOUBLE_EQ(price.input, c.input) << c.model;
    EXPECT_DOUBLE_EQ(price.output, c.output) << c.model;
    EXPECT_NEAR(price.cache_read, c.cache_read, 1e-12) << c.model;
    EXPECT_DOUBLE_EQ(price.cache_write, c.input * 1.25) << c.model;
  }
}

TEST(PriceTable, CostAddsEveryKindOfToken) {
  // Sonnet 4.6: 1M in = $3, 1M out = $15, 1M cache write = $3.75, 1M cache read = $0.30.
  const double cost = CostUsd(
      "claude-sonnet-4-6",
      {.input = 1'000'000, .output = 1'000'000, .cache_write = 1'000'000, .cache_read = 1'000'000});
  EXPECT_NEAR(cost, 3.0 + 15.0 + 3.75 + 0.30, 1e-9);
  EXPECT_NEAR(CostUsd("claude-opus-5-5", {.input = 1000, .output = 500}), 0.004 + 0.01, 1e-12);
  EXPECT_DOUBLE_EQ(CostUsd("claude-opus-5-5", {}), 0.0);
}

}  // namespace
}  // namespace claudegate::keys
