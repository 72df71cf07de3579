#include "claudegate/ledger/litellm_spend.hpp"

#include <map>

#include <nlohmann/json.hpp>

#include "claudegate/ledger/report_query.hpp"

namespace claudegate::ledger {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr std::int64_t kSpendDayMs = 86'400'000;

template <typename Json>
std::string DumpSpend(const Json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// LiteLLM's time stamps: ISO 8601 with milliseconds.
std::string SpendTime(std::int64_t ms) {
  std::string text = IsoTime(ms);
  text.pop_back();  // Z
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  return text + millis;
}

// OpenAI's prompt tokens count the cached parts too; Anthropic's input_tokens do not.
std::int64_t PromptTokens(std::int64_t input, std::int64_t cache_read, std::int64_t cache_write) {
  return input + cache_read + cache_write;
}

}  // namespace

std::string SpendLogRowsJson(const std::vector<store::UsageRecord>& rows) {
  json list = json::array();
  for (const auto& row : rows) {
    const std::int64_t prompt =
        PromptTokens(row.input_tokens, row.cache_read_tokens, row.cache_write_tokens);
    json metadata = {{"route", row.route},
                     {"status_code", row.status},
                     {"stream", row.stream},
                     {"latency_ms", row.latency_ms},
                     {"retries", row.retries},
                     {"cache_read_input_tokens", row.cache_read_tokens},
                     {"cache_creation_input_tokens", row.cache_write_tokens},
                     {"upstream_request_id", row.upstream_request_id},
                     {"key_alias", row.key_token.empty() ? "master" : row.key_alias}};
    if (!row.error.empty()) {
      metadata["error"] = row.error;
    }
    list.push_back({{"request_id", row.request_id},
                    {"call_type", row.route},
                    {"api_key", row.key_token},
                    {"spend", row.cost_usd},
                    {"total_tokens", prompt + row.output_tokens},
                    {"prompt_tokens", prompt},
                    {"completion_tokens", row.output_tokens},
                    {"startTime", SpendTime(row.time_ms)},
                    {"endTime", SpendTime(row.time_ms + row.latency_ms)},
                    {"completionStartTime",
                     row.ttft_ms ? json(SpendTime(row.time_ms + *row.ttft_ms)) : json(nullptr)},
                    {"model", row.model_used.empty() ? row.model : row.model_used},
                    {"model_group", row.model},
                    {"custom_llm_provider", "anthropic"},
                    {"user", ""},
                    {"end_user", ""},
                    {"team_id", nullptr},
                    {"request_tags", json::array()},
                    {"cache_hit", "False"},
                    {"status", row.status < 400 && row.error.empty() ? "success" : "failure"},
                    {"metadata", std::move(metadata)}});
  }
  return DumpSpend(list);
}

std::string SpendLogDaysJson(const std::vector<store::UsageSum>& sums, std::int64_t to_ms) {
  std::map<std::int64_t, ordered_json> days;
  for (const auto& sum : sums) {
    auto& day = days[sum.period_start_ms];
    if (day.is_null()) {
      day = {{"startTime", DayOf(sum.period_start_ms)},
             {"spend", 0.0},
             {"models", ordered_json::object()},
             {"users", ordered_json::object()}};
    }
    day["spend"] = day["spend"].get<double>() + sum.cost_usd;
    auto& model = day["models"][sum.model];
    model = (model.is_null() ? 0.0 : model.get<double>()) + sum.cost_usd;
    auto& key = day[sum.key_token];
    key = (key.is_null() ? 0.0 : key.get<double>()) + sum.cost_usd;
  }
  ordered_json list = ordered_json::array();
  std::int64_t last = -1;
  for (auto& [start, day] : days) {
    list.push_back(std::move(day));
    last = start;
  }
  if (last >= 0) {
    for (std::int64_t day = last + kSpendDayMs; day < to_ms; day += kSpendDayMs) {
      list.push_back({{"startTime", DayOf(day)},
                      {"spend", 0},
                      {"users", ordered_json::object()},
                      {"models", ordered_json::object()}});
    }
  }
  return DumpSpend(list);
}

std::string GlobalSpendByTeamJson(const std::vector<store::UsageSum>& sums) {
  std::map<std::int64_t, ordered_json> days;
  for (const auto& sum : sums) {
    auto& day = days[sum.period_start_ms];
    if (day.is_null()) {
      day = {{"group_by_day", DayOf(sum.period_start_ms) + "T00:00:00+00:00"},
             {"teams",
              {{{"team_name", "Unassigned Team"},
                {"total_spend", 0.0},
                {"metadata", ordered_json::array()}}}}};
    }
    auto& team = day["teams"][0];
    team["total_spend"] = team["total_spend"].get<double>() + sum.cost_usd;
    team["metadata"].push_back(
        {{"model", sum.model},
         {"spend", sum.cost_usd},
         {"total_tokens",
          PromptTokens(sum.input_tokens, sum.cache_read_tokens, sum.cache_write_tokens) +
              sum.output_tokens},
         {"api_key", sum.key_token}});
  }
  ordered_json list = ordered_json::array();
  for (auto& [start, day] : days) {
    list.push_back(std::move(day));
  }
  return DumpSpend(list);
}

std::string GlobalSpendByKeyJson(const std::vector<store::UsageSum>& sums) {
  std::map<std::string, ordered_json> keys;
  for (const auto& sum : sums) {
    auto& key = keys[sum.key_token];
    if (key.is_null()) {
      key = {{"api_key", sum.key_token},
             {"key_alias", sum.key_token.empty() ? "master" : sum.key_alias},
             {"total_cost", 0.0},
             {"total_input_tokens", 0},
             {"total_output_tokens", 0},
             {"model_details", ordered_json::array()}};
    }
    const std::int64_t input =
        PromptTokens(sum.input_tokens, sum.cache_read_tokens, sum.cache_write_tokens);
    key["total_cost"] = key["total_cost"].get<double>() + sum.cost_usd;
    key["total_input_tokens"] = key["total_input_tokens"].get<std::int64_t>() + input;
    key["total_output_tokens"] = key["total_output_tokens"].get<std::int64_t>() + sum.output_tokens;
    key["model_details"].push_back({{"model", sum.model},
                                    {"total_cost", sum.cost_usd},
                                    {"total_input_tokens", input},
                                    {"total_output_tokens", sum.output_tokens}});
  }
  ordered_json list = ordered_json::array();
  for (auto& [token, key] : keys) {
    list.push_back(std::move(key));
  }
  return DumpSpend(list);
}

}  // namespace claudegate::ledger
