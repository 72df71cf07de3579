#include "yaml_reader.hpp"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "claudegate/middleware/client_address.hpp"

#include "value_parsing.hpp"
#include "yaml_context.hpp"
#include "yaml_model_list.hpp"
#include "yaml_retries.hpp"
#include "yaml_store.hpp"

namespace claudegate::config::detail {
namespace {

class YamlReader : public YamlContext {
 public:
  using YamlContext::YamlContext;

  Result<void> Read(const YAML::Node& root) {
    if (!root || root.IsNull()) {
      return {};
    }
    if (!root.IsMap()) {
      return Fail("the top level must be a mapping (model_list:, general_settings:, ...)");
    }
    for (const auto& entry : root) {
      const auto key = entry.first.as<std::string>();
      Result<void> step;
      if (key == "model_list") {
        step = ReadModelList(*this, entry.second);
      } else if (key == "general_settings") {
        step = ReadGeneralSettings(entry.second);
      } else if (key == "litellm_settings") {
        step = ReadLitellmSettings(entry.second);
      } else if (key == "claudegate") {
        step = ReadOwnSettings(entry.second);
      } else if (key == "router_settings") {
        step = ReadRouterSettings(entry.second);
      } else if (key == "environment_variables") {
        Warn(key + " is a LiteLLM setting claudegate does not use; ignored");
      } else {
        Warn("unknown top-level key '" + key + "' ignored");
      }
      if (!step) {
        return step;
      }
    }
    return {};
  }

 private:
  Result<void> ReadGeneralSettings(const YAML::Node& node) {
    if (node.IsNull()) {
      return {};
    }
    if (!node.IsMap()) {
      return Fail("general_settings must be a mapping");
    }
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      if (key == "master_key") {
        auto value = String(entry.second, "general_settings.master_key");
        if (!value) {
          return value.error();
        }
        config_.master_key = *value;
      } else if (key == "database_url" || key == "store_model_in_db") {
        Warn("general_settings." + key + " ignored: claudegate needs no database");
      } else {
        Warn("general_settings." + key + " is not used by claudegate; ignored");
      }
    }
    return {};
  }

  Result<void> ReadLitellmSettings(const YAML::Node& node) {
    if (node.IsNull()) {
      return {};
    }
    if (!node.IsMap()) {
      return Fail("litellm_settings must be a mapping");
    }
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      if (key == "drop_params") {
        auto value = Bool(entry.second, "litellm_settings.drop_params");
        if (!value) {
          return value.error();
        }
        config_.translation.drop_params = *value;
      } else if (auto retry = ReadLitellmRetryKey(key, entry.second, "litellm_settings." + key,
                                                  file_, config_.retries);
                 !retry || *retry == RetryKey::kRead) {
        if (!retry) {
          return retry.error();
        }
      } else if (key == "custom_provider_map") {
        Warn(
            "litellm_settings.custom_provider_map ignored: claudegate talks to Claude itself, "
            "no custom provider is needed");
      } else if (key == "success_callback" || key == "failure_callback" || key == "callbacks") {
        // Empty callback lists are common in LiteLLM configs; nothing to warn about.
        if (entry.second.IsSequence() && entry.second.size() > 0) {
          Warn("litellm_settings." + key + " ignored: use /metrics and the access log instead");
        }
      } else {
        Warn("litellm_settings." + key + " is not used by claudegate; ignored");
      }
    }
    return {};
  }

  // LiteLLM's router: only the retry and fallback settings mean anything here (yaml_retries.cpp).
  Result<void> ReadRouterSettings(const YAML::Node& node) {
    if (node.IsNull()) {
      return {};
    }
    if (!node.IsMap()) {
      return Fail("router_settings must be a mapping");
    }
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      auto retry =
          ReadLitellmRetryKey(key, entry.second, "router_settings." + key, file_, config_.retries);
      if (!retry) {
        return retry.error();
      }
      if (*retry == RetryKey::kNotMine) {
        Warn("router_settings." + key + " is not used by claudegate; ignored");
      }
    }
    return {};
  }

  Result<void> ReadOwnSettings(const YAML::Node& node) {
    if (node.IsNull()) {
      return {};
    }
    if (!node.IsMap()) {
      return Fail("claudegate must be a mapping");
    }
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      const YAML::Node& value = entry.second;
      const std::string where = "claudegate." + key;
      Result<void> step;
      if (key == "host") {
        auto text = String(value, where);
        step = text ? (config_.host = *text, Result<void>{}) : Result<void>(text.error());
      } else if (key == "port") {
        auto port = Integer<std::uint16_t>(value, where);
        step = port ? (config_.port = *port, Result<void>{}) : Result<void>(port.error());
      } else if (key == "threads") {
        auto threads = Integer<unsigned>(value, where);
        step =
            threads ? (config_.threads = *threads, Result<void>{}) : Result<void>(threads.error());
      } else if (key == "log_level") {
        auto text = String(value, where);
        if (!text) {
          return text.error();
        }
        auto level = NormalizeLogLevel(*text, file_ + ": " + where);
        step =
            level ? (config_.logging.level = *level, Result<void>{}) : Result<void>(level.error());
      } else if (key == "log_json") {
        auto flag = Bool(value, where);
        step = flag ? (config_.logging.json = *flag, Result<void>{}) : Result<void>(flag.error());
      } else if (key == "default_max_tokens") {
        auto tokens = Integer<int>(value, where);
        if (tokens && *tokens <= 0) {
          return Fail(where + " must be positive");
        }
        step = tokens ? (config_.translation.default_max_tokens = *tokens, Result<void>{})
                      : Result<void>(tokens.error());
      } else if (key == "metrics_public") {
        auto flag = Bool(value, where);
        step = flag ? (config_.metrics_public = *flag, Result<void>{}) : Result<void>(flag.error());
      } else if (key == "prompt_caching") {
        auto mode = CachingMode(value, where);
        step = mode ? (config_.prompt_caching.mode = *mode, Result<void>{})
                    : Result<void>(mode.error());
      } else if (key == "prompt_cache_ttl") {
        auto ttl = CacheTtlValue(value, where);
        step =
            ttl ? (config_.prompt_caching.ttl = *ttl, Result<void>{}) : Result<void>(ttl.error());
      } else if (key == "prompt_caching_messages") {
        auto flag = Bool(value, where);
        step = flag ? (config_.prompt_caching.messages_route = *flag, Result<void>{})
                    : Result<void>(flag.error());
      } else if (key == "plan_guard") {
        step = ReadPlanGuard(value);
      } else if (key == "auth_throttle") {
        step = ReadAuthThrottle(value);
      } else if (key == "retries") {
        step = ReadOwnRetries(value, file_, config_.retries, config_.warnings);
      } else if (key == "trusted_proxies") {
        step = ReadTrustedProxies(value);
      } else if (key == "limits") {
        step = ReadLimits(value);
      } else if (key == "tls") {
        step = ReadTls(value);
      } else if (key == "upstream") {
        step = ReadUpstream(value);
      } else if (key == "store") {
        step = ReadOwnStore(value, file_, config_.store, config_.warnings);
      } else {
        Warn("unknown key " + where + " ignored");
      }
      if (!step) {
        return step;
      }
    }
    return {};
  }

  Result<void> ReadLimits(const YAML::Node& node) {
    if (!node.IsMap()) {
      return Fail("claudegate.limits must be a mapping");
    }
    auto& limits = config_.limits;
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      const std::string where = "claudegate.limits." + key;
      Result<void> step;
      if (key == "max_body_bytes") {
        step = Size(entry.second, where, limits.max_body_bytes);
      } else if (key == "max_header_bytes") {
        step = Size(entry.second, where, limits.max_header_bytes);
      } else if (key == "max_connections") {
        step = Size(entry.second, where, limits.max_connections);
      } else if (key == "max_connections_per_client") {
        step = Size(entry.second, where, limits.max_connections_per_client);
      } else if (key == "max_body_bytes_in_flight") {
        step = Size(entry.second, where, limits.max_body_bytes_in_flight);
      } else if (key == "header_timeout_ms") {
        step = Millis(entry.second, where, limits.header_timeout);
      } else if (key == "body_timeout_ms") {
        step = Millis(entry.second, where, limits.body_timeout);
      } else if (key == "idle_timeout_ms") {
        step = Millis(entry.second, where, limits.idle_timeout);
      } else if (key == "write_timeout_ms") {
        step = Millis(entry.second, where, limits.write_timeout);
      } else if (key == "shutdown_grace_ms") {
        step = Millis(entry.second, where, limits.shutdown_grace);
      } else {
        Warn("unknown key " + where + " ignored");
      }
      if (!step) {
        return step;
      }
    }
    return {};
  }

  Result<void> ReadPlanGuard(const YAML::Node& node) {
    if (!node.IsMap()) {
      return Fail("claudegate.plan_guard must be a mapping (enabled, refuse_overage)");
    }
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      const std::string where = "claudegate.plan_guard." + key;
      if (key != "enabled" && key != "refuse_overage") {
        Warn("unknown key " + where + " ignored");
        continue;
      }
      auto flag = Bool(entry.second, where);
      if (!flag) {
        return flag.error();
      }
      (key == "enabled" ? config_.plan_guard.enabled : config_.plan_guard.refuse_overage) = *flag;
    }
    return {};
  }

  Result<void> ReadAuthThrottle(const YAML::Node& node) {
    if (!node.IsMap()) {
      return Fail("claudegate.auth_throttle must be a mapping (max_failures, window_ms, block_ms)");
    }
    auto& throttle = config_.auth_throttle;
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      const std::string where = "claudegate.auth_throttle." + key;
      Result<void> step;
      if (key == "max_failures") {  // 0 is allowed: it turns the throttle off
        auto count = Integer<std::size_t>(entry.second, where);
        step =
            count ? (throttle.max_failures = *count, Result<void>{}) : Result<void>(count.error());
      } else if (key == "window_ms") {
        step = Millis(entry.second, where, throttle.window);
      } else if (key == "block_ms") {
        step = Millis(entry.second, where, throttle.block);
      } else {
        Warn("unknown key " + where + " ignored");
      }
      if (!step) {
        return step;
      }
    }
    return {};
  }

  Result<void> ReadTrustedProxies(const YAML::Node& node) {
    if (!node.IsSequence()) {
      return Fail("claudegate.trusted_proxies must be a list of addresses or CIDR networks");
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string where = "claudegate.trusted_proxies[" + std::to_string(i) + "]";
      auto text = String(node[i], where);
      if (!text) {
        return text.error();
      }
      if (!middleware::IsAddressOrNetwork(*text)) {
        return Fail(where + ": '" + *text + "' is not an IP address or CIDR network");
      }
      config_.trusted_proxies.push_back(*text);
    }
    return {};
  }

  Result<void> ReadTls(const YAML::Node& node) {
    if (!node.IsMap()) {
      return Fail("claudegate.tls must be a mapping with cert_file and key_file");
    }
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      auto text = String(entry.second, "claudegate.tls." + key);
      if (!text) {
        return text.error();
      }
      if (key == "cert_file") {
        config_.tls.cert_file = *text;
      } else if (key == "key_file") {
        config_.tls.key_file = *text;
      } else {
        Warn("unknown key claudegate.tls." + key + " ignored");
      }
    }
    return {};
  }

  Result<void> ReadUpstream(const YAML::Node& node) {
    if (!node.IsMap()) {
      return Fail("claudegate.upstream must be a mapping");
    }
    auto& upstream = config_.upstream;
    for (const auto& entry : node) {
      const auto key = entry.first.as<std::string>();
      const std::string where = "claudegate.upstream." + key;
      Result<void> step;
      if (key == "base_url" || key == "anthropic_version") {
        auto text = String(entry.second, where);
        if (!text) {
          return text.error();
        }
        (key == "base_url" ? upstream.base_url : upstream.anthropic_version) = *text;
      } else if (key == "extra_betas") {
        if (!entry.second.IsSequence()) {
          return Fail(where + " must be a list of strings");
        }
        upstream.extra_betas.clear();
        for (const auto& beta : entry.second) {
          upstream.extra_betas.push_back(beta.as<std::string>());
        }
      } else if (key == "connect_timeout_ms") {
        step = Millis(entry.second, where, upstream.connect_timeout);
      } else if (key == "tls_timeout_ms") {
        step = Millis(entry.second, where, upstream.tls_timeout);
      } else if (key == "first_byte_timeout_ms") {
        step = Millis(entry.second, where, upstream.first_byte_timeout);
      } else if (key == "stream_idle_timeout_ms") {
        step = Millis(entry.second, where, upstream.stream_idle_timeout);
      } else if (key == "heartbeat_interval_ms") {
        step = Millis(entry.second, where, upstream.heartbeat_interval);
      } else if (key == "max_sse_event_bytes") {
        step = Size(entry.second, where, upstream.max_sse_event_bytes);
      } else if (key == "max_response_bytes") {
        step = Size(entry.second, where, upstream.max_response_bytes);
      } else if (key == "max_idle_connections") {
        step = Size(entry.second, where, upstream.max_idle_connections);
      } else if (key == "pool_idle_timeout_ms") {
        step = Millis(entry.second, where, upstream.pool_idle_timeout);
      } else {
        Warn("unknown key " + where + " ignored");
      }
      if (!step) {
        return step;
      }
    }
    return {};
  }
};

}  // namespace

Result<void> ReadYamlFile(const std::string& path, Config& config, const EnvLookup& env) {
  std::ifstream file(path);
  if (!file) {
    return ConfigError("cannot read config file '" + path +
                       "': check the path given to --config / CLAUDEGATE_CONFIG");
  }
  std::stringstream text;
  text << file.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return ConfigError(path + ": not valid YAML: " + e.what());
  }
  try {
    return YamlReader(config, env, path).Read(root);
  } catch (const YAML::Exception& e) {
    return ConfigError(path + ": unexpected value: " + e.what());
  }
}

}  // namespace claudegate::config::detail
