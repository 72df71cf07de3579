/// @file five_hour_blocks.hpp
/// Usage in 5-hour blocks, the way ccusage shows Claude Code's (https://ccusage.com/guide/blocks):
/// a block starts at the hour of the first request after the previous block ended and lasts five
/// hours. It approximates the subscription's 5-hour session window from the ledger alone; the
/// window Anthropic actually counts (and its reset) is the plan state on /health and /ui, from
/// its `anthropic-ratelimit-unified-5h-*` headers (docs/ledger.md).
#pragma once

#include <cstdint>
#include <vector>

#include "claudegate/store/usage_record.hpp"

namespace claudegate::ledger {

constexpr std::int64_t kBlockMs = 5 * 3'600'000;

/// The start of each block holding `hours` (starts of hours with usage, any order, repeats
/// allowed), ascending.
[[nodiscard]] std::vector<std::int64_t> BlockStarts(std::vector<std::int64_t> hours);

/// Hourly sums (grouped by hour and any of model/key) folded into 5-hour blocks: each sum's
/// `period_start_ms` becomes its block's start, sums of the same block, model and key added up.
/// Ordered by block, then model and key.
[[nodiscard]] std::vector<store::UsageSum> FoldIntoBlocks(
    const std::vector<store::UsageSum>& hourly);

}  // namespace claudegate::ledger
