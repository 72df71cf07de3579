/// @file report_query.hpp
/// The query string of the usage reports (docs/ledger.md), read into a store filter: which days,
/// which keys and models, grouped how, in which format. Pure; every bad parameter is an error
/// naming it.
///
///     GET /usage/report?start_date=2026-12-01&end_date=2026-12-07&group_by=day,model&format=csv
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "claudegate/error.hpp"
#include "claudegate/store/usage_record.hpp"

namespace claudegate::ledger {

enum class ReportFormat { kJson, kCsv };

struct ReportQuery {
  store::UsageFilter filter;
  store::UsageGrouping grouping;
  bool by_block = false;  ///< 5-hour blocks (five_hour_blocks.hpp): grouped by hour in the store.
  ReportFormat format = ReportFormat::kJson;
  std::int64_t limit = 1000;  ///< Rows of /usage/logs.
  std::int64_t offset = 0;
};

/// Reads `start_date`/`end_date` (UTC days, inclusive; default the last 7 days up to today) or
/// `since` (a duration back from now: `24h`, `7d`), `group_by` (comma list of hour|day|block,
/// model, key), `key_alias`, `model`, `request_id`, `format` (json|csv), `limit` (1-10000),
/// `offset`. Unknown parameters are ignored, as LiteLLM's are.
[[nodiscard]] Result<ReportQuery> ParseReportQuery(std::string_view target, std::int64_t now_ms);

/// Unix milliseconds of 00:00 UTC of a `YYYY-MM-DD` day, or nullopt when it is not one.
[[nodiscard]] std::optional<std::int64_t> DayStartMs(std::string_view date);

/// `YYYY-MM-DD` of the UTC day holding `ms`.
[[nodiscard]] std::string DayOf(std::int64_t ms);

/// `YYYY-MM-DDTHH:MM:SSZ` of `ms` (seconds precision).
[[nodiscard]] std::string IsoTime(std::int64_t ms);

}  // namespace claudegate::ledger
