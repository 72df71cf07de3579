// Parsing of configuration values shared by the YAML reader and the environment reader.
// Private to src/config.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "claudegate/config/loader.hpp"

namespace claudegate::config::detail {

inline Error ConfigError(std::string message) {
  return Error{ErrorKind::kInvalidRequest, std::move(message), {}, {}};
}

inline std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// LiteLLM lets any string say `os.environ/NAME`; the value then comes from the environment.
inline std::optional<std::string> ExpandEnvReference(const std::string& value,
                                                     const EnvLookup& env) {
  constexpr std::string_view kPrefix = "os.environ/";
  if (!value.starts_with(kPrefix)) {
    return value;
  }
  return env(value.substr(kPrefix.size()));
}

template <typename Int>
Result<Int> ParseInteger(std::string_view text, std::string_view setting) {
  Int value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return ConfigError(std::string(setting) + " must be a whole number, got '" + std::string(text) +
                       "'");
  }
  return value;
}

inline Result<bool> ParseBool(std::string_view text, std::string_view setting) {
  const std::string lower = Lower(text);
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") {
    return true;
  }
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off" || lower.empty()) {
    return false;
  }
  return ConfigError(std::string(setting) + " must be true or false, got '" + std::string(text) +
                     "'");
}

inline Result<std::string> NormalizeLogLevel(std::string_view text, std::string_view setting) {
  std::string level = Lower(text);
  if (level == "warn") {
    level = "warning";
  }
  if (level == "debug" || level == "info" || level == "warning" || level == "error" ||
      level == "trace" || level == "critical" || level == "off") {
    return level;
  }
  return ConfigError(std::string(setting) + " must be one of debug, info, warning, error; got '" +
                     std::string(text) + "'");
}

}  // namespace claudegate::config::detail
