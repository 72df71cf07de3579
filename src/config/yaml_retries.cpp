#include "yaml_retries.hpp"

#include <cmath>
#include <cstdint>

#include "value_parsing.hpp"

namespace claudegate::config::detail {
namespace {

Error Fail(const std::string& file, const std::string& message) {
  return ConfigError(file + ": " + message);
}

// LiteLLM gives times in seconds, possibly fractional (`request_timeout: 600`, `retry_after: 0.5`).
Result<std::chrono::milliseconds> Seconds(const YAML::Node& node, const std::string& where,
                                          const std::string& file) {
  double seconds = -1;
  if (node.IsScalar()) {
    try {
      seconds = node.as<double>();
    } catch (const YAML::Exception&) {
      seconds = -1;
    }
  }
  if (!(seconds >= 0) || !std::isfinite(seconds)) {
    return Fail(file, where + " must be a number of seconds, zero or more");
  }
  return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

template <typename Int>
Result<Int> Whole(const YAML::Node& node, const std::string& where, const std::string& file) {
  if (!node.IsScalar()) {
    return Fail(file, where + " must be a whole number");
  }
  return ParseInteger<Int>(node.as<std::string>(), file + ": " + where);
}

// LiteLLM's shape: a list of one-key mappings, `[{"opus": ["sonnet", "haiku"]}]`; a target may
// also be a single string.
Result<std::vector<FallbackRule>> Rules(const YAML::Node& node, const std::string& where,
                                        const std::string& file) {
  const std::string shape = where + R"( must be a list like [{"opus": ["sonnet"]}])";
  if (!node.IsSequence()) {
    return Fail(file, shape);
  }
  std::vector<FallbackRule> rules;
  for (const auto& item : node) {
    if (!item.IsMap()) {
      return Fail(file, shape);
    }
    for (const auto& entry : item) {
      FallbackRule rule;
      rule.model = entry.first.as<std::string>();
      if (entry.second.IsScalar()) {
        rule.targets.push_back(entry.second.as<std::string>());
      } else if (entry.second.IsSequence()) {
        for (const auto& target : entry.second) {
          if (!target.IsScalar()) {
            return Fail(file, shape);
          }
          rule.targets.push_back(target.as<std::string>());
        }
      } else {
        return Fail(file, shape);
      }
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

}  // namespace

Result<RetryKey> ReadLitellmRetryKey(const std::string& key, const YAML::Node& value,
                                     const std::string& where, const std::string& file,
                                     Retries& retries) {
  if (key == "num_retries") {
    auto n = Whole<unsigned>(value, where, file);
    if (!n) {
      return n.error();
    }
    retries.num_retries = *n;
  } else if (key == "request_timeout" || key == "timeout") {
    auto budget = Seconds(value, where, file);
    if (!budget) {
      return budget.error();
    }
    retries.budget = *budget;
  } else if (key == "retry_after") {
    auto delay = Seconds(value, where, file);
    if (!delay) {
      return delay.error();
    }
    retries.min_delay = *delay;
  } else if (key == "fallbacks" || key == "context_window_fallbacks") {
    auto rules = Rules(value, where, file);
    if (!rules) {
      return rules.error();
    }
    (key == "fallbacks" ? retries.fallbacks : retries.context_window_fallbacks) = std::move(*rules);
  } else {
    return RetryKey::kNotMine;
  }
  return RetryKey::kRead;
}

Result<void> ReadOwnRetries(const YAML::Node& node, const std::string& file, Retries& retries,
                            std::vector<std::string>& warnings) {
  if (!node.IsMap()) {
    return Fail(file, "claudegate.retries must be a mapping (num_retries, budget_ms, ...)");
  }
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    const std::string where = "claudegate.retries." + key;
    if (key == "num_retries") {
      auto n = Whole<unsigned>(entry.second, where, file);
      if (!n) {
        return n.error();
      }
      retries.num_retries = *n;
      continue;
    }
    if (key == "read_ahead_bytes") {
      auto n = Whole<std::size_t>(entry.second, where, file);
      if (!n) {
        return n.error();
      }
      retries.read_ahead_bytes = *n;
      continue;
    }
    std::chrono::milliseconds* target = nullptr;
    if (key == "budget_ms") {
      target = &retries.budget;
    } else if (key == "initial_backoff_ms") {
      target = &retries.initial_backoff;
    } else if (key == "max_backoff_ms") {
      target = &retries.max_backoff;
    } else if (key == "min_delay_ms") {
      target = &retries.min_delay;
    } else {
      warnings.push_back(file + ": unknown key " + where + " ignored");
      continue;
    }
    auto value = Whole<std::int64_t>(entry.second, where, file);
    if (!value) {
      return value.error();
    }
    if (*value < 0) {
      return Fail(file, where + " must be zero or more milliseconds");
    }
    *target = std::chrono::milliseconds(*value);
  }
  return {};
}

}  // namespace claudegate::config::detail
