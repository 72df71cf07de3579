#include "claudegate/ledger/five_hour_blocks.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace claudegate::ledger {

std::vector<std::int64_t> BlockStarts(std::vector<std::int64_t> hours) {
  std::sort(hours.begin(), hours.end());
  std::vector<std::int64_t> starts;
  for (const std::int64_t hour : hours) {
    if (starts.empty() || hour >= starts.back() + kBlockMs) {
      starts.push_back(hour);
    }
  }
  return starts;
}

std::vector<store::UsageSum> FoldIntoBlocks(const std::vector<store::UsageSum>& hourly) {
  std::vector<std::int64_t> hours;
  hours.reserve(hourly.size());
  for (const auto& sum : hourly) {
    hours.push_back(sum.period_start_ms);
  }
  const auto starts = BlockStarts(std::move(hours));
  // (block, model, key token) → sums; the map keeps the report's order.
  std::map<std::tuple<std::int64_t, std::string, std::string>, store::UsageSum> blocks;
  for (const auto& sum : hourly) {
    // The last block starting at or before this hour.
    const auto next = std::upper_bound(starts.begin(), starts.end(), sum.period_start_ms);
    const std::int64_t block = *(next - 1);
    auto [it, inserted] = blocks.try_emplace({block, sum.model, sum.key_token}, sum);
    auto& into = it->second;
    if (inserted) {
      into.period_start_ms = block;
      continue;
    }
    into.Add(sum);
    if (into.key_alias.empty()) {
      into.key_alias = sum.key_alias;
    }
  }
  std::vector<store::UsageSum> folded;
  folded.reserve(blocks.size());
  for (auto& [key, sum] : blocks) {
    folded.push_back(std::move(sum));
  }
  return folded;
}

}  // namespace claudegate::ledger
