// Reads the retry and fallback settings (LiteLLM's `num_retries`, `request_timeout`,
// `retry_after`, `fallbacks`, `context_window_fallbacks` under `litellm_settings` or
// `router_settings`, and `claudegate.retries`). Private to src/config.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "claudegate/config/loader.hpp"
#include "claudegate/config/retries.hpp"

namespace claudegate::config::detail {

/// What a LiteLLM-section key turned out to be.
enum class RetryKey {
  kNotMine,  ///< Not a retry setting: the caller handles or warns about it.
  kRead,     ///< A retry setting, applied to `retries`.
};

/// Applies `key: value` of a LiteLLM section (`where` names it, e.g. "router_settings.fallbacks")
/// when it is a retry or fallback setting. Errors name `file` and `where`.
[[nodiscard]] Result<RetryKey> ReadLitellmRetryKey(const std::string& key, const YAML::Node& value,
                                                   const std::string& where,
                                                   const std::string& file, Retries& retries);

/// Applies the `claudegate.retries` mapping; unknown keys are appended to `warnings`.
[[nodiscard]] Result<void> ReadOwnRetries(const YAML::Node& node, const std::string& file,
                                          Retries& retries, std::vector<std::string>& warnings);

}  // namespace claudegate::config::detail
