/// @file plan_windows.hpp
/// Internal to src/anthropic: which plan window refused a subscription request, read generically
/// from the `anthropic-ratelimit-unified-*` claims (docs/anthropic-notes.md#refusals), and the
/// small header readers refusal.cpp shares with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "claudegate/anthropic/refusal.hpp"

namespace claudegate::anthropic {

/// Where a user turns extra usage on or adds to it.
inline constexpr std::string_view kUsageSettings = "claude.ai/settings/usage";

/// The value of unified header `key` (a suffix), or "".
[[nodiscard]] std::string_view Get(const UnifiedHeaders& unified, std::string_view key);
/// Unified header `key` as whole Unix seconds, when it is a number.
[[nodiscard]] std::optional<std::int64_t> Seconds(const UnifiedHeaders& unified,
                                                  std::string_view key);

/// The refusal of an answer whose unified `status` is `rejected`: the 5-hour, weekly or
/// model-scoped window that binds (a plan limit when none can be told), extra usage used up for
/// the `overage` claim; with its claim, reset and message, `retry_useless` set.
[[nodiscard]] Refusal WindowRefusal(const UnifiedHeaders& unified);

}  // namespace claudegate::anthropic
