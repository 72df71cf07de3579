/// @file litellm_spend.hpp
/// LiteLLM's spend report shapes over the usage ledger (docs/ledger.md), for the seed's scripts:
/// `GET /spend/logs` and `GET /global/spend/report`, as LiteLLM's proxy answers them
/// (https://docs.litellm.ai/docs/proxy/cost_tracking; its spend_management_endpoints.py). Pure.
/// `spend` is USD at Anthropic's list prices; `api_key` is the key's token (SHA-256 hex, as
/// LiteLLM's hashed keys), empty for the master key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "claudegate/store/usage_record.hpp"

namespace claudegate::ledger {

/// Rows as LiteLLM's `LiteLLM_SpendLogs` objects, in the given order.
[[nodiscard]] std::string SpendLogRowsJson(const std::vector<store::UsageRecord>& rows);

/// `/spend/logs?start_date&end_date` (summarize=true): one object per UTC day from the first day
/// with spend through `to_ms`' day, `{"startTime": "YYYY-MM-DD", "spend", "models": {model:
/// spend}, "users": {}, <api_key>: spend}`; days after the last one with spend are listed with
/// zero, as LiteLLM does. `sums` are grouped by day, model and key.
[[nodiscard]] std::string SpendLogDaysJson(const std::vector<store::UsageSum>& sums,
                                           std::int64_t to_ms);

/// `/global/spend/report?group_by=team`: per UTC day, one team (claudegate has none; LiteLLM
/// names keys without one "Unassigned Team") with its spend by key and model. `sums` are
/// grouped by day, model and key.
[[nodiscard]] std::string GlobalSpendByTeamJson(const std::vector<store::UsageSum>& sums);

/// `/global/spend/report?api_key=…` or `group_by=api_key`: per key over the range, its cost and
/// tokens by model. `sums` are grouped by model and key.
[[nodiscard]] std::string GlobalSpendByKeyJson(const std::vector<store::UsageSum>& sums);

}  // namespace claudegate::ledger
