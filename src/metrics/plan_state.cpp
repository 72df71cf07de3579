#include "claudegate/metrics/plan_state.hpp"

#include <charconv>

namespace claudegate::metrics {
namespace {

std::optional<double> ParseNumber(const anthropic::UnifiedHeaders& headers,
                                  const std::string& key) {
  const auto it = headers.find(key);
  if (it == headers.end()) {
    return std::nullopt;
  }
  double value = 0;
  const auto& text = it->second;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string Get(const anthropic::UnifiedHeaders& headers, const std::string& key) {
  const auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace

std::string IsoTime(std::int64_t unix_seconds) { return anthropic::IsoTime(unix_seconds); }

void PlanState::Update(const http::fields& headers) {
  auto found = anthropic::ReadUnifiedHeaders(headers);
  if (found.empty()) {
    return;
  }
  const std::lock_guard lock(mutex_);
  headers_ = std::move(found);  // each response reports the whole state
  updated_at_ = std::chrono::system_clock::now();
}

std::map<std::string, std::string> PlanState::Headers() const {
  const std::lock_guard lock(mutex_);
  return {headers_.begin(), headers_.end()};
}

nlohmann::json PlanState::ToJson() const {
  const std::lock_guard lock(mutex_);
  nlohmann::json out = {{"reported", updated_at_.has_value()}};
  if (!updated_at_) {
    return out;
  }
  out["status"] = Get(headers_, "status").empty() ? "allowed" : Get(headers_, "status");
  out["representative_claim"] = Get(headers_, "representative-claim");
  if (auto reset = ParseNumber(headers_, "reset")) {
    out["reset"] = static_cast<std::int64_t>(*reset);
    out["reset_at"] = IsoTime(static_cast<std::int64_t>(*reset));
  }
  out["overage_in_use"] = Get(headers_, "overage-in-use") == "true";
  out["overage_status"] = Get(headers_, "overage-status");
  nlohmann::json windows = nlohmann::json::object();
  for (const auto& [key, value] : headers_) {
    constexpr std::string_view kUtilization = "-utilization";
    if (key.size() > kUtilization.size() && key.ends_with(kUtilization)) {
      const std::string window = key.substr(0, key.size() - kUtilization.size());
      if (auto utilization = ParseNumber(headers_, key)) {
        windows[window]["utilization"] = *utilization;
      }
      if (auto reset = ParseNumber(headers_, window + "-reset")) {
        windows[window]["reset"] = static_cast<std::int64_t>(*reset);
        windows[window]["reset_at"] = IsoTime(static_cast<std::int64_t>(*reset));
      }
    }
  }
  out["windows"] = std::move(windows);
  out["updated_at"] = IsoTime(
      std::chrono::duration_cast<std::chrono::seconds>(updated_at_->time_since_epoch()).count());
  return out;
}

std::optional<PlanRefusal> PlanState::Refusal(std::chrono::system_clock::time_point now,
                                              bool refuse_overage) const {
  const std::lock_guard lock(mutex_);
  if (!updated_at_) {
    return std::nullopt;
  }
  auto refusal = anthropic::PlanGuardRefusal(headers_, now, refuse_overage);
  if (!refusal) {
    return std::nullopt;
  }
  const bool overage = refusal->kind == anthropic::RefusalKind::kOverageInUse;
  return PlanRefusal{refusal->kind,
                     refusal->message + (overage ? " claudegate's plan guard refuses them instead "
                                                   "of spending money."
                                                 : " claudegate's plan guard is refusing requests "
                                                   "until then."),
                     refusal->SecondsUntilReset(now).value_or(0)};
}

}  // namespace claudegate::metrics
