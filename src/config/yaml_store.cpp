#include "yaml_store.hpp"

#include <limits>

#include "value_parsing.hpp"

namespace claudegate::config::detail {
namespace {

Error Fail(const std::string& file, const std::string& message) {
  return ConfigError(file + ": " + message);
}

Result<std::string> Scalar(const YAML::Node& node, const std::string& where,
                           const std::string& file) {
  if (!node.IsScalar()) {
    return Fail(file, where + " must be a single value");
  }
  return node.as<std::string>();
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text, std::string_view setting) {
  const auto invalid = [&] {
    return ConfigError(std::string(setting) +
                       " must be a duration like 30d, 12h, 45m, 90s or a number of seconds, got '" +
                       std::string(text) + "'");
  };
  if (text.empty()) {
    return invalid();
  }
  std::int64_t unit = 1;
  switch (text.back()) {
    case 'd':
      unit = 86400;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    case 's':
      unit = 1;
      break;
    default:
      unit = 0;
  }
  const std::string_view number = unit == 0 ? text : text.substr(0, text.size() - 1);
  auto count = ParseInteger<std::int64_t>(number, setting);
  if (!count || *count <= 0 || *count > std::numeric_limits<std::int64_t>::max() / 86400) {
    return invalid();
  }
  return std::chrono::seconds(*count * (unit == 0 ? 1 : unit));
}

Result<void> ReadOwnStore(const YAML::Node& node, const std::string& file, Store& store,
                          std::vector<std::string>& warnings) {
  if (!node.IsMap()) {
    return Fail(file,
                "claudegate.store must be a mapping (enabled, data_dir, responses_ttl, "
                "usage_ttl, max_size_mb, max_queued_writes)");
  }
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    const std::string where = "claudegate.store." + key;
    if (key != "enabled" && key != "data_dir" && key != "responses_ttl" && key != "usage_ttl" &&
        key != "max_size_mb" && key != "max_queued_writes") {
      warnings.push_back(file + ": unknown key " + where + " ignored");
      continue;
    }
    auto text = Scalar(entry.second, where, file);
    if (!text) {
      return text.error();
    }
    const std::string setting = file + ": " + where;
    if (key == "enabled") {
      auto flag = ParseBool(*text, setting);
      if (!flag) {
        return flag.error();
      }
      store.enabled = *flag;
    } else if (key == "data_dir") {
      if (text->empty()) {
        return Fail(file, where + " must not be empty");
      }
      store.data_dir = *text;
    } else if (key == "responses_ttl" || key == "usage_ttl") {
      auto ttl = ParseDuration(*text, setting);
      if (!ttl) {
        return ttl.error();
      }
      (key == "responses_ttl" ? store.responses_ttl : store.usage_ttl) = *ttl;
    } else {
      auto n = ParseInteger<std::uint64_t>(*text, setting);
      if (!n) {
        return n.error();
      }
      if (*n == 0) {
        return Fail(file, where + " must be greater than zero");
      }
      (key == "max_size_mb" ? store.max_size_mb : store.max_queued_writes) = *n;
    }
  }
  return {};
}

std::string DefaultDataDir(const EnvLookup& env) {
  if (auto state = env("XDG_STATE_HOME"); state && state->starts_with('/')) {
    return *state + "/claudegate";
  }
  auto home = env("HOME");
  return (home && !home->empty() ? *home : std::string("/root")) + "/.local/state/claudegate";
}

}  // namespace claudegate::config::detail
