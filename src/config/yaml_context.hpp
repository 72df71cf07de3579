// What every reader of a config file section shares: the file's name (for messages), the
// environment (for os.environ/ references), the Config being filled and its warnings, and the
// typed scalar readers. Private to src/config.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "claudegate/config/config.hpp"
#include "claudegate/config/loader.hpp"

#include "value_parsing.hpp"

namespace claudegate::config::detail {

class YamlContext {
 public:
  YamlContext(Config& config, const EnvLookup& env, std::string file)
      : config_(config), env_(env), file_(std::move(file)) {}

  [[nodiscard]] Config& config() { return config_; }

  [[nodiscard]] Error FailError(const std::string& message) const {
    return ConfigError(file_ + ": " + message);
  }
  [[nodiscard]] Result<void> Fail(const std::string& message) const { return FailError(message); }
  void Warn(const std::string& message) { config_.warnings.push_back(file_ + ": " + message); }

  [[nodiscard]] Result<std::string> String(const YAML::Node& node, const std::string& where) const {
    if (!node.IsScalar()) {
      return FailError(where + " must be a string");
    }
    auto expanded = ExpandEnvReference(node.as<std::string>(), env_);
    return expanded.value_or("");
  }

  [[nodiscard]] Result<bool> Bool(const YAML::Node& node, const std::string& where) const {
    auto text = String(node, where);
    if (!text) {
      return text.error();
    }
    return ParseBool(*text, file_ + ": " + where);
  }

  template <typename Int>
  [[nodiscard]] Result<Int> Integer(const YAML::Node& node, const std::string& where) const {
    auto text = String(node, where);
    if (!text) {
      return text.error();
    }
    return ParseInteger<Int>(*text, file_ + ": " + where);
  }

  [[nodiscard]] Result<void> Millis(const YAML::Node& node, const std::string& where,
                                    Milliseconds& out) const {
    auto value = Integer<std::int64_t>(node, where);
    if (!value) {
      return value.error();
    }
    if (*value <= 0) {
      return Fail(where + " must be a positive number of milliseconds");
    }
    out = Milliseconds(*value);
    return {};
  }

  [[nodiscard]] Result<void> Size(const YAML::Node& node, const std::string& where,
                                  std::size_t& out) const {
    auto value = Integer<std::size_t>(node, where);
    if (!value) {
      return value.error();
    }
    if (*value == 0) {
      return Fail(where + " must be greater than zero");
    }
    out = *value;
    return {};
  }

  [[nodiscard]] Result<CacheTtl> CacheTtlValue(const YAML::Node& node,
                                               const std::string& where) const {
    auto text = String(node, where);
    if (!text) {
      return text.error();
    }
    if (*text == "5m") {
      return CacheTtl::kFiveMinutes;
    }
    if (*text == "1h") {
      return CacheTtl::kOneHour;
    }
    return FailError(where + " must be 5m or 1h (Anthropic's two cache lifetimes), got '" + *text +
                     "'");
  }

  [[nodiscard]] Result<PromptCachingMode> CachingMode(const YAML::Node& node,
                                                      const std::string& where) const {
    auto text = String(node, where);
    if (!text) {
      return text.error();
    }
    const std::string lower = Lower(*text);
    if (lower == "auto" || lower == "true" || lower == "on") {
      return PromptCachingMode::kAuto;
    }
    if (lower == "off" || lower == "false") {
      return PromptCachingMode::kOff;
    }
    return FailError(where + " must be auto or off, got '" + *text + "'");
  }

 protected:
  Config& config_;
  const EnvLookup& env_;
  std::string file_;
};

}  // namespace claudegate::config::detail
