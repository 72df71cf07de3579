#include "claudegate/metrics/plan_state.hpp"

#include <charconv>
#include <ctime>

namespace claudegate::metrics {
namespace {

constexpr std::string_view kPrefix = "anthropic-ratelimit-unified-";

std::optional<double> ParseNumber(const std::map<std::string, std::string>& headers,
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

std::string Get(const std::map<std::string, std::string>& headers, const std::string& key) {
  const auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace

std::string IsoTime(std::int64_t unix_seconds) {
  const std::time_t time = unix_seconds;
  std::tm tm{};
  ::gmtime_r(&time, &tm);
  std::array<char, 32> buffer{};
  const auto n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer.data(), n);
}

void PlanState::Update(const http::fields& headers) {
  std::map<std::string, std::string> found;
  for (const auto& field : headers) {
    const std::string_view name = field.name_string();
    if (name.size() > kPrefix.size() && beast::iequals(name.substr(0, kPrefix.size()), kPrefix)) {
      std::string suffix(name.substr(kPrefix.size()));
      for (auto& c : suffix) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      found.emplace(std::move(suffix), std::string(field.value()));
    }
  }
  if (found.empty()) {
    return;
  }
  const std::lock_guard lock(mutex_);
  headers_ = std::move(found);  // each response reports the whole state
  updated_at_ = std::chrono::system_clock::now();
}

std::map<std::string, std::string> PlanState::Headers() const {
  const std::lock_guard lock(mutex_);
  return headers_;
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
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto reset = ParseNumber(headers_, "reset");
  const auto claim = Get(headers_, "representative-claim");
  if (Get(headers_, "status") == "rejected" && reset && *reset > static_cast<double>(now_s)) {
    const auto reset_s = static_cast<std::int64_t>(*reset);
    return PlanRefusal{"Your Claude plan's usage limit" +
                           (claim.empty() ? std::string() : " (" + claim + ")") +
                           " is reached; it resets at " + IsoTime(reset_s) +
                           ". claudegate's plan guard is refusing requests until then.",
                       reset_s - now_s};
  }
  if (refuse_overage && Get(headers_, "overage-in-use") == "true") {
    const auto overage_reset = ParseNumber(headers_, "overage-reset");
    const auto plan_reset = reset ? static_cast<std::int64_t>(*reset) : 0;
    const std::int64_t until = plan_reset > now_s ? plan_reset
                               : overage_reset    ? static_cast<std::int64_t>(*overage_reset)
                                                  : 0;
    return PlanRefusal{"Requests are drawing on paid extra usage (overage) because the plan limit" +
                           (claim.empty() ? std::string() : " (" + claim + ")") + " is used up" +
                           (until > 0 ? "; the plan resets at " + IsoTime(until) : std::string()) +
                           ". claudegate's plan guard refuses them instead of spending money.",
                       until > now_s ? until - now_s : 0};
  }
  return std::nullopt;
}

}  // namespace claudegate::metrics
