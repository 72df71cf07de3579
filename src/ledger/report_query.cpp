#include "claudegate/ledger/report_query.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "claudegate/server/query_string.hpp"

namespace claudegate::ledger {
namespace {

using server::QueryParameter;

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kMaxRows = 10'000;
constexpr std::int64_t kDefaultDays = 7;

Error BadParameter(std::string_view name, std::string message) {
  return Error(ErrorKind::kInvalidRequest, std::move(message), std::string(name),
               "invalid_request_error");
}

std::optional<std::int64_t> ParseCount(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0) {
    return std::nullopt;
  }
  return value;
}

// `24h`, `7d`, `90m` back from now, in milliseconds.
std::optional<std::int64_t> ParseSince(std::string_view text) {
  if (text.size() < 2) {
    return std::nullopt;
  }
  std::int64_t unit = 0;
  switch (text.back()) {
    case 'd':
      unit = kDayMs;
      break;
    case 'h':
      unit = 3'600'000;
      break;
    case 'm':
      unit = 60'000;
      break;
    default:
      return std::nullopt;
  }
  const auto count = ParseCount(text.substr(0, text.size() - 1));
  // At most ten years: no overflow, and nothing is kept longer.
  if (!count || *count == 0 || *count * unit > 3650 * kDayMs) {
    return std::nullopt;
  }
  return *count * unit;
}

Result<void> ReadGrouping(std::string_view text, ReportQuery& query) {
  using Period = store::UsageGrouping::Period;
  const auto fail = [&](std::string why) {
    return BadParameter("group_by", "group_by: " + why +
                                        " (a comma-separated list of hour, day or block, and "
                                        "model, key; docs/ledger.md)");
  };
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const bool period = part == "hour" || part == "day" || part == "block";
    if (period && (query.grouping.period != Period::kNone || query.by_block)) {
      return fail("at most one of hour, day and block");
    }
    if (part == "hour") {
      query.grouping.period = Period::kHour;
    } else if (part == "day") {
      query.grouping.period = Period::kDay;
    } else if (part == "block") {
      query.by_block = true;
      query.grouping.period = Period::kHour;  // blocks are made of hours
    } else if (part == "model") {
      query.grouping.by_model = true;
    } else if (part == "key") {
      query.grouping.by_key = true;
    } else if (!part.empty()) {
      return fail("unknown group '" + std::string(part.substr(0, 40)) + "'");
    }
  }
  return {};
}

}  // namespace

std::optional<std::int64_t> DayStartMs(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') {
    return std::nullopt;
  }
  const auto year = ParseCount(date.substr(0, 4));
  const auto month = ParseCount(date.substr(5, 2));
  const auto day = ParseCount(date.substr(8, 2));
  if (!year || !month || !day) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(*year)),
                                        std::chrono::month(static_cast<unsigned>(*month)),
                                        std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok() || *year < 1970) {
    return std::nullopt;
  }
  return std::chrono::sys_days(ymd).time_since_epoch().count() * kDayMs;
}

std::string DayOf(std::int64_t ms) { return IsoTime(ms).substr(0, 10); }

std::string IsoTime(std::int64_t ms) {
  const std::int64_t seconds = ms >= 0 ? ms / 1000 : 0;
  const std::int64_t days = seconds / 86400;
  const std::int64_t in_day = seconds % 86400;
  const std::chrono::year_month_day ymd{
      std::chrono::sys_days(std::chrono::days(static_cast<int>(days)))};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return text;
}

Result<ReportQuery> ParseReportQuery(std::string_view target, std::int64_t now_ms) {
  ReportQuery query;
  const std::int64_t today = now_ms / kDayMs * kDayMs;
  query.filter.from_ms = today - (kDefaultDays - 1) * kDayMs;
  query.filter.to_ms = today + kDayMs;
  const auto since = QueryParameter(target, "since");
  const auto start = QueryParameter(target, "start_date");
  const auto end = QueryParameter(target, "end_date");
  if (since && (start || end)) {
    return BadParameter("since", "Give either since or start_date/end_date, not both.");
  }
  if (since) {
    const auto back = ParseSince(*since);
    if (!back) {
      return BadParameter("since", "since must be a duration like 24h, 7d or 90m (at most 3650d).");
    }
    query.filter.from_ms = now_ms - *back;
    query.filter.to_ms = now_ms + 1;
  }
  if (start) {
    const auto day = DayStartMs(*start);
    if (!day) {
      return BadParameter("start_date", "start_date must be a day as YYYY-MM-DD (UTC).");
    }
    query.filter.from_ms = *day;
  }
  if (end) {
    const auto day = DayStartMs(*end);
    if (!day) {
      return BadParameter("end_date", "end_date must be a day as YYYY-MM-DD (UTC).");
    }
    query.filter.to_ms = *day + kDayMs;  // inclusive
  }
  if (query.filter.to_ms <= query.filter.from_ms) {
    return BadParameter("end_date", "end_date is before start_date.");
  }
  if (const auto group_by = QueryParameter(target, "group_by")) {
    if (auto read = ReadGrouping(*group_by, query); !read) {
      return read.error();
    }
  }
  if (const auto alias = QueryParameter(target, "key_alias")) {
    query.filter.key_alias = alias->substr(0, 256);
  }
  if (const auto model = QueryParameter(target, "model")) {
    query.filter.model = model->substr(0, 256);
  }
  if (const auto request_id = QueryParameter(target, "request_id")) {
    query.filter.request_id = request_id->substr(0, 256);
  }
  if (const auto format = QueryParameter(target, "format")) {
    if (*format == "csv") {
      query.format = ReportFormat::kCsv;
    } else if (*format != "json") {
      return BadParameter("format", "format must be json or csv.");
    }
  }
  if (const auto limit = QueryParameter(target, "limit")) {
    const auto n = ParseCount(*limit);
    if (!n || *n < 1 || *n > kMaxRows) {
      return BadParameter("limit", "limit must be a whole number from 1 to 10000.");
    }
    query.limit = *n;
  }
  if (const auto offset = QueryParameter(target, "offset")) {
    const auto n = ParseCount(*offset);
    if (!n) {
      return BadParameter("offset", "offset must be a whole number, 0 or more.");
    }
    query.offset = *n;
  }
  return query;
}

}  // namespace claudegate::ledger
