#include "claudegate/keys/price_table.hpp"

#include <array>

namespace claudegate::keys {
namespace {

struct PriceRow {
  std::string_view prefix;
  double input;
  double output;
  double cache_read_factor;  // of the input price
};

// Anthropic's list prices in USD per million tokens (docs/keys.md, "Prices", with the sources).
// Matched by the longest prefix, so `claude-opus-4-5…` finds its own row before `claude-opus-4`.
constexpr std::array<PriceRow, 20> kRows{{
    {"claude-fable-5-1", 10.0, 50.0, 0.025},
    {"claude-mythos-5-1", 10.0, 50.0, 0.025},
    {"claude-fable", 10.0, 50.0, 0.1},
    {"claude-mythos", 10.0, 50.0, 0.1},
    {"claude-opus-5-5", 4.0, 20.0, 0.05},
    {"claude-opus-5", 5.0, 25.0, 0.1},
    {"claude-opus-4-5", 5.0, 25.0, 0.1},
    {"claude-opus-4-6", 5.0, 25.0, 0.1},
    {"claude-opus-4-7", 5.0, 25.0, 0.1},
    {"claude-opus-4-8", 5.0, 25.0, 0.1},
    {"claude-opus-4", 15.0, 75.0, 0.1},  // Opus 4 and 4.1
    {"claude-3-opus", 15.0, 75.0, 0.1},
    {"claude-sonnet-5-5", 2.0, 10.0, 0.05},
    {"claude-sonnet-5", 2.0, 10.0, 0.1},
    {"claude-sonnet", 3.0, 15.0, 0.1},  // Sonnet 4 to 4.6
    {"claude-haiku-5-5", 0.10, 0.50, 0.1},
    {"claude-haiku", 1.0, 5.0, 0.1},  // Haiku 4.5
    {"claude-3-5-haiku", 0.80, 4.0, 0.1},
    {"claude-3-haiku", 0.25, 1.25, 0.12},
    {"claude-3", 3.0, 15.0, 0.1},  // Sonnet 3.5 and 3.7
}};

// Newer than the table: priced as the Sonnet family, never free.
constexpr PriceRow kUnknown{"", 3.0, 15.0, 0.1};

// A 5-minute cache write costs 1.25x the input price (docs/prompt-caching.md).
constexpr double kCacheWriteFactor = 1.25;
constexpr double kPerMillion = 1e-6;

}  // namespace

ModelPrice PriceFor(std::string_view model) {
  const PriceRow* best = &kUnknown;
  for (const auto& row : kRows) {
    if (model.starts_with(row.prefix) && row.prefix.size() > best->prefix.size()) {
      best = &row;
    }
  }
  return {best->input, best->output, best->input * kCacheWriteFactor,
          best->input * best->cache_read_factor};
}

double CostUsd(std::string_view model, const TokenCounts& tokens) {
  const ModelPrice price = PriceFor(model);
  return (static_cast<double>(tokens.input) * price.input +
          static_cast<double>(tokens.output) * price.output +
          static_cast<double>(tokens.cache_write) * price.cache_write +
          static_cast<double>(tokens.cache_read) * price.cache_read) *
         kPerMillion;
}

}  // namespace claudegate::keys
