#include "claudegate/ledger/report_render.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "claudegate/ledger/five_hour_blocks.hpp"

namespace claudegate::ledger {
namespace {

using json = nlohmann::json;
using Period = store::UsageGrouping::Period;

std::string Dump(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> GroupNames(const ReportQuery& query) {
  std::vector<std::string> names;
  if (query.by_block) {
    names.emplace_back("block");
  } else if (query.grouping.period == Period::kHour) {
    names.emplace_back("hour");
  } else if (query.grouping.period == Period::kDay) {
    names.emplace_back("day");
  }
  if (query.grouping.by_model) {
    names.emplace_back("model");
  }
  if (query.grouping.by_key) {
    names.emplace_back("key");
  }
  return names;
}

std::int64_t PeriodLengthMs(const ReportQuery& query) {
  if (query.by_block) {
    return kBlockMs;
  }
  return query.grouping.period == Period::kDay ? 86'400'000 : 3'600'000;
}

json Counters(const store::UsageSum& sum) {
  return {{"requests", sum.requests},
          {"errors", sum.errors},
          {"retries", sum.retries},
          {"input_tokens", sum.input_tokens},
          {"output_tokens", sum.output_tokens},
          {"cache_read_tokens", sum.cache_read_tokens},
          {"cache_write_tokens", sum.cache_write_tokens},
          {"total_tokens",
           sum.input_tokens + sum.output_tokens + sum.cache_read_tokens + sum.cache_write_tokens},
          {"cost_usd", sum.cost_usd}};
}

store::UsageSum Total(const std::vector<store::UsageSum>& sums) {
  store::UsageSum total;
  for (const auto& sum : sums) {
    total.Add(sum);
  }
  return total;
}

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

}  // namespace

std::string KeyLabel(const std::string& key_alias, const std::string& key_token) {
  if (key_token.empty()) {
    return "master";
  }
  return key_alias.empty() ? key_token.substr(0, 12) : key_alias;
}

std::string CsvField(std::string_view text) {
  std::string field(text);
  if (!field.empty() &&
      (field[0] == '=' || field[0] == '+' || field[0] == '-' || field[0] == '@')) {
    field.insert(field.begin(), '\'');
  }
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    return field;
  }
  std::string quoted = "\"";
  for (const char c : field) {
    quoted += c;
    if (c == '"') {
      quoted += '"';
    }
  }
  quoted += '"';
  return quoted;
}

std::string ReportJson(const ReportQuery& query, const std::vector<store::UsageSum>& sums) {
  const bool has_period = query.grouping.period != Period::kNone;
  json data = json::array();
  for (const auto& sum : sums) {
    json row = Counters(sum);
    if (has_period) {
      row["period_start"] = IsoTime(sum.period_start_ms);
      row["period_end"] = IsoTime(sum.period_start_ms + PeriodLengthMs(query));
    }
    if (query.grouping.by_model) {
      row["model"] = sum.model;
    }
    if (query.grouping.by_key) {
      row["key"] = KeyLabel(sum.key_alias, sum.key_token);
    }
    data.push_back(std::move(row));
  }
  const json body = {{"object", "usage.report"},
                     {"start", IsoTime(query.filter.from_ms)},
                     {"end", IsoTime(query.filter.to_ms)},
                     {"group_by", GroupNames(query)},
                     {"data", std::move(data)},
                     {"totals", Counters(Total(sums))}};
  return Dump(body);
}

std::string ReportCsv(const ReportQuery& query, const std::vector<store::UsageSum>& sums) {
  const bool has_period = query.grouping.period != Period::kNone;
  std::string out;
  if (has_period) {
    out += "period_start,period_end,";
  }
  if (query.grouping.by_model) {
    out += "model,";
  }
  if (query.grouping.by_key) {
    out += "key,";
  }
  out +=
      "requests,errors,retries,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,"
      "total_tokens,cost_usd\r\n";
  for (const auto& sum : sums) {
    if (has_period) {
      out += IsoTime(sum.period_start_ms) + "," +
             IsoTime(sum.period_start_ms + PeriodLengthMs(query)) + ",";
    }
    if (query.grouping.by_model) {
      out += CsvField(sum.model) + ",";
    }
    if (query.grouping.by_key) {
      out += CsvField(KeyLabel(sum.key_alias, sum.key_token)) + ",";
    }
    out += std::to_string(sum.requests) + "," + std::to_string(sum.errors) + "," +
           std::to_string(sum.retries) + "," + std::to_string(sum.input_tokens) + "," +
           std::to_string(sum.output_tokens) + "," + std::to_string(sum.cache_read_tokens) + "," +
           std::to_string(sum.cache_write_tokens) + "," +
           std::to_string(sum.input_tokens + sum.output_tokens + sum.cache_read_tokens +
                          sum.cache_write_tokens) +
           "," + Number(sum.cost_usd) + "\r\n";
  }
  return out;
}

std::string RowsJson(const std::vector<store::UsageRecord>& rows, bool has_more) {
  json data = json::array();
  for (const auto& row : rows) {
    data.push_back({{"time", IsoTime(row.time_ms)},
                    {"time_ms", row.time_ms},
                    {"request_id", row.request_id},
                    {"key", KeyLabel(row.key_alias, row.key_token)},
                    {"route", row.route},
                    {"model", row.model},
                    {"model_used", row.model_used},
                    {"stream", row.stream},
                    {"input_tokens", row.input_tokens},
                    {"output_tokens", row.output_tokens},
                    {"cache_read_tokens", row.cache_read_tokens},
                    {"cache_write_tokens", row.cache_write_tokens},
                    {"cost_usd", row.cost_usd},
                    {"status", row.status},
                    {"error", row.error},
                    {"latency_ms", row.latency_ms},
                    {"ttft_ms", row.ttft_ms ? json(*row.ttft_ms) : json(nullptr)},
                    {"upstream_request_id", row.upstream_request_id},
                    {"retries", row.retries}});
  }
  return Dump({{"object", "list"}, {"data", std::move(data)}, {"has_more", has_more}});
}

std::string RowsCsv(const std::vector<store::UsageRecord>& rows) {
  std::string out =
      "time,request_id,key,route,model,model_used,stream,input_tokens,output_tokens,"
      "cache_read_tokens,cache_write_tokens,cost_usd,status,error,latency_ms,ttft_ms,"
      "upstream_request_id,retries\r\n";
  for (const auto& row : rows) {
    out += IsoTime(row.time_ms) + "," + CsvField(row.request_id) + "," +
           CsvField(KeyLabel(row.key_alias, row.key_token)) + "," + CsvField(row.route) + "," +
           CsvField(row.model) + "," + CsvField(row.model_used) + "," +
           (row.stream ? "true" : "false") + "," + std::to_string(row.input_tokens) + "," +
           std::to_string(row.output_tokens) + "," + std::to_string(row.cache_read_tokens) + "," +
           std::to_string(row.cache_write_tokens) + "," + Number(row.cost_usd) + "," +
           std::to_string(row.status) + "," + CsvField(row.error) + "," +
           std::to_string(row.latency_ms) + "," +
           (row.ttft_ms ? std::to_string(*row.ttft_ms) : std::string()) + "," +
           CsvField(row.upstream_request_id) + "," + std::to_string(row.retries) + "\r\n";
  }
  return out;
}

}  // namespace claudegate::ledger
