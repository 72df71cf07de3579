#include "claudegate/config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace claudegate::config {
namespace {

// The master key must carry LiteLLM's prefix; shorter than this is accepted with a warning.
constexpr std::size_t kShortKeyWarningLength = 24;
constexpr std::string_view kKeyHelp = "generate one with: echo \"sk-$(openssl rand -hex 32)\"";

Error ConfigError(std::string message) {
  return Error{ErrorKind::kInvalidRequest, std::move(message), {}, {}};
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// LiteLLM lets any string say `os.environ/NAME`; the value then comes from the environment.
std::optional<std::string> ExpandEnvReference(const std::string& value, const EnvLookup& env) {
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

Result<bool> ParseBool(std::string_view text, std::string_view setting) {
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

Result<std::string> NormalizeLogLevel(std::string_view text, std::string_view setting) {
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

// ---- YAML -------------------------------------------------------------------------------------

class YamlReader {
 public:
  YamlReader(Config& config, const EnvLookup& env, std::string file)
      : config_(config), env_(env), file_(std::move(file)) {}

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
        step = ReadModelList(entry.second);
      } else if (key == "general_settings") {
        step = ReadGeneralSettings(entry.second);
      } else if (key == "litellm_settings") {
        step = ReadLitellmSettings(entry.second);
      } else if (key == "claudegate") {
        step = ReadOwnSettings(entry.second);
      } else if (key == "router_settings" || key == "environment_variables") {
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
  Error FailError(const std::string& message) const {
    return ConfigError(file_ + ": " + message);
  }
  Result<void> Fail(const std::string& message) const { return FailError(message); }
  void Warn(const std::string& message) { config_.warnings.push_back(file_ + ": " + message); }

  Result<std::string> String(const YAML::Node& node, const std::string& where) const {
    if (!node.IsScalar()) {
      return FailError(where + " must be a string");
    }
    auto expanded = ExpandEnvReference(node.as<std::string>(), env_);
    return expanded.value_or("");
  }

  Result<void> ReadModelList(const YAML::Node& list) {
    if (list.IsNull()) {
      return {};
    }
    if (!list.IsSequence()) {
      return Fail("model_list must be a list of {model_name, litellm_params: {model}}");
    }
    std::vector<ModelAlias> configured;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string where = "model_list[" + std::to_string(i) + "]";
      if (!item.IsMap() || !item["model_name"]) {
        return Fail(where + " needs a model_name");
      }
      auto name = String(item["model_name"], where + ".model_name");
      if (!name) {
        return name.error();
      }
      std::string target = *name;
      if (const YAML::Node params = item["litellm_params"]; params && params["model"]) {
        auto model = String(params["model"], where + ".litellm_params.model");
        if (!model) {
          return model.error();
        }
        target = *model;
      }
      // Provider prefixes (`anthropic/`, `claude-code-sdk/`, `claude-agent-sdk/`) name LiteLLM
      // handlers; claudegate is the handler, so only the model part matters.
      if (const auto slash = target.rfind('/'); slash != std::string::npos) {
        target = target.substr(slash + 1);
      }
      auto resolved = ResolveTarget(target);
      if (!resolved) {
        Warn(where + ": model '" + target + "' is neither a claude- id nor one of " +
             "sonnet/opus/haiku/default; entry ignored");
        continue;
      }
      configured.push_back({*name, *resolved});
    }
    // Configured names first (they are what /v1/models lists first); the built-in aliases stay
    // resolvable unless the file redefines them.
    for (const auto& builtin : BuiltinAliases()) {
      const bool overridden = std::any_of(configured.begin(), configured.end(),
                                          [&](const auto& a) { return a.name == builtin.name; });
      if (!overridden) {
        configured.push_back(builtin);
      }
    }
    config_.models = ModelCatalog(std::move(configured));
    return {};
  }

  static std::vector<ModelAlias> BuiltinAliases() {
    auto aliases = ModelCatalog::DefaultAliases();
    // The Claude CLI's "default" model; the seed's config lists it.
    aliases.push_back({"default", aliases.front().upstream_id});
    return aliases;
  }

  static std::optional<std::string> ResolveTarget(const std::string& target) {
    for (const auto& alias : BuiltinAliases()) {
      if (alias.name == target) {
        return alias.upstream_id;
      }
    }
    if (target.starts_with("claude-")) {
      return target;
    }
    return std::nullopt;
  }

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
      } else if (key == "custom_provider_map") {
        Warn("litellm_settings.custom_provider_map ignored: claudegate talks to Claude itself, "
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

  Result<bool> Bool(const YAML::Node& node, const std::string& where) const {
    auto text = String(node, where);
    if (!text) {
      return text.error();
    }
    return ParseBool(*text, file_ + ": " + where);
  }

  template <typename Int>
  Result<Int> Integer(const YAML::Node& node, const std::string& where) const {
    auto text = String(node, where);
    if (!text) {
      return text.error();
    }
    return ParseInteger<Int>(*text, file_ + ": " + where);
  }

  Result<void> Millis(const YAML::Node& node, const std::string& where, Milliseconds& out) const {
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

  Result<void> Size(const YAML::Node& node, const std::string& where, std::size_t& out) const {
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
        step = threads ? (config_.threads = *threads, Result<void>{})
                       : Result<void>(threads.error());
      } else if (key == "log_level") {
        auto text = String(value, where);
        if (!text) {
          return text.error();
        }
        auto level = NormalizeLogLevel(*text, file_ + ": " + where);
        step = level ? (config_.logging.level = *level, Result<void>{})
                     : Result<void>(level.error());
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
      } else if (key == "plan_guard") {
        step = ReadPlanGuard(value);
      } else if (key == "limits") {
        step = ReadLimits(value);
      } else if (key == "tls") {
        step = ReadTls(value);
      } else if (key == "upstream") {
        step = ReadUpstream(value);
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

  Config& config_;
  const EnvLookup& env_;
  std::string file_;
};

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

// ---- Environment ------------------------------------------------------------------------------

std::optional<std::string> NonEmpty(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (value && value->empty()) {
    return std::nullopt;  // `NAME=` in a .env file means "not set".
  }
  return value;
}

Result<void> ApplyEnvironment(Config& config, const EnvLookup& env) {
  if (auto key = NonEmpty(env, "LITELLM_MASTER_KEY")) {
    config.master_key = *key;
  }
  if (auto host = NonEmpty(env, "HOST")) {
    config.host = *host;
  }
  if (auto port = NonEmpty(env, "PORT")) {
    auto parsed = ParseInteger<std::uint16_t>(*port, "PORT");
    if (!parsed) {
      return parsed.error();
    }
    config.port = *parsed;
  }
  if (auto token = NonEmpty(env, "CLAUDE_CODE_OAUTH_TOKEN")) {
    config.credentials.oauth_token = *token;
  }
  if (auto dir = NonEmpty(env, "CLAUDE_CONFIG_DIR")) {
    config.credentials.config_dir = *dir;
  }
  if (auto key = NonEmpty(env, "ANTHROPIC_API_KEY")) {
    config.credentials.api_key = *key;
  }
  if (auto url = NonEmpty(env, "ANTHROPIC_BASE_URL")) {
    config.upstream.base_url = *url;
  }
  if (auto url = NonEmpty(env, "CLAUDE_OAUTH_TOKEN_URL")) {
    config.credentials.oauth_token_url = *url;
  }
  if (auto file = NonEmpty(env, "SSL_CERT_FILE")) {
    config.upstream.ssl_cert_file = *file;
  }
  // LOG_LEVEL wins over LiteLLM's LITELLM_LOG when both are set.
  for (const char* name : {"LITELLM_LOG", "LOG_LEVEL"}) {
    if (auto level = NonEmpty(env, name)) {
      auto normalized = NormalizeLogLevel(*level, name);
      if (!normalized) {
        return normalized.error();
      }
      config.logging.level = *normalized;
    }
  }
  if (auto json = NonEmpty(env, "CLAUDEGATE_LOG_JSON")) {
    auto flag = ParseBool(*json, "CLAUDEGATE_LOG_JSON");
    if (!flag) {
      return flag.error();
    }
    config.logging.json = *flag;
  }
  if (auto cert = NonEmpty(env, "CLAUDEGATE_TLS_CERT_FILE")) {
    config.tls.cert_file = *cert;
  }
  if (auto key = NonEmpty(env, "CLAUDEGATE_TLS_KEY_FILE")) {
    config.tls.key_file = *key;
  }
  return {};
}

Result<void> Validate(Config& config) {
  if (config.master_key.empty()) {
    return ConfigError(
        "LITELLM_MASTER_KEY is not set: claudegate will not start without a client key. Set it "
        "in .env or the environment (" + std::string(kKeyHelp) + ")");
  }
  if (!config.master_key.starts_with("sk-")) {
    return ConfigError("LITELLM_MASTER_KEY must start with \"sk-\" (LiteLLM's convention, which "
                       "clients expect); " + std::string(kKeyHelp));
  }
  if (config.master_key.size() < kShortKeyWarningLength) {
    config.warnings.push_back("LITELLM_MASTER_KEY is short (" +
                              std::to_string(config.master_key.size()) +
                              " characters); a guessable key exposes your subscription. " +
                              std::string(kKeyHelp));
  }
  if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
    return ConfigError("listener TLS needs both a certificate and a key file "
                       "(claudegate.tls.cert_file and claudegate.tls.key_file)");
  }
  if (!config.upstream.base_url.starts_with("https://") &&
      !config.upstream.base_url.starts_with("http://")) {
    return ConfigError("ANTHROPIC_BASE_URL must be an https:// URL, got '" +
                       config.upstream.base_url + "'");
  }
  return {};
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

EnvLookup MapEnvironment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    if (auto it = values.find(std::string(name)); it != values.end()) {
      return it->second;
    }
    return std::nullopt;
  };
}

Result<Config> LoadConfig(const CommandLine& command_line, const EnvLookup& env) {
  Config config;
  // Precedence: defaults < file < environment < flags.
  std::optional<std::string> path = command_line.config_path;
  if (!path) {
    path = NonEmpty(env, "CLAUDEGATE_CONFIG");
  }
  if (path) {
    if (auto read = ReadYamlFile(*path, config, env); !read) {
      return read.error();
    }
    config.config_file = *path;
  }
  if (auto applied = ApplyEnvironment(config, env); !applied) {
    return applied.error();
  }
  if (command_line.host) {
    config.host = *command_line.host;
  }
  if (command_line.port) {
    config.port = *command_line.port;
  }
  if (config.credentials.config_dir.empty()) {
    const auto home = NonEmpty(env, "HOME");
    config.credentials.config_dir = home.value_or("/root") + "/.claude";
  }
  if (auto valid = Validate(config); !valid) {
    return valid.error();
  }
  return config;
}

std::string RedactSecret(std::string_view secret) {
  if (secret.empty()) {
    return "(not set)";
  }
  // Show the prefix family and the last 4 characters only when the secret is long enough that
  // those 7 characters reveal a negligible part of it.
  if (secret.size() < 20) {
    return "(set, redacted)";
  }
  const std::string_view prefix = secret.starts_with("sk-") ? secret.substr(0, 3) : "";
  return std::string(prefix) + "…" + std::string(secret.substr(secret.size() - 4));
}

std::string DescribeConfig(const Config& config) {
  std::ostringstream out;
  auto ms = [](Milliseconds value) { return std::to_string(value.count()) + " ms"; };
  out << "claudegate " << CLAUDEGATE_VERSION << " effective configuration\n"
      << "  config_file:           " << config.config_file.value_or("(none)") << "\n"
      << "  master_key:            " << RedactSecret(config.master_key) << "\n"
      << "  listen:                " << config.host << ":" << config.port
      << (config.tls.Enabled() ? " (https)" : " (http)") << "\n"
      << "  threads:               "
      << (config.threads == 0 ? std::string("auto") : std::to_string(config.threads)) << "\n"
      << "  log:                   " << config.logging.level
      << (config.logging.json ? " (json lines)" : " (text)") << "\n"
      << "  limits:                body " << config.limits.max_body_bytes << " B, headers "
      << config.limits.max_header_bytes << " B, connections " << config.limits.max_connections
      << "\n"
      << "  timeouts:              header " << ms(config.limits.header_timeout) << ", idle "
      << ms(config.limits.idle_timeout) << ", shutdown grace "
      << ms(config.limits.shutdown_grace) << "\n"
      << "  upstream:              " << config.upstream.base_url << " (anthropic-version "
      << config.upstream.anthropic_version << ")\n"
      << "  upstream timeouts:     connect " << ms(config.upstream.connect_timeout)
      << ", first byte " << ms(config.upstream.first_byte_timeout) << ", stream idle "
      << ms(config.upstream.stream_idle_timeout) << "\n"
      << "  CA bundle:             "
      << (config.upstream.ssl_cert_file.empty() ? "system store" : config.upstream.ssl_cert_file)
      << "\n"
      << "  credentials:           CLAUDE_CODE_OAUTH_TOKEN "
      << RedactSecret(config.credentials.oauth_token) << "; " << config.credentials.config_dir
      << "/.credentials.json; ANTHROPIC_API_KEY " << RedactSecret(config.credentials.api_key)
      << "\n"
      << "  oauth token url:       " << config.credentials.oauth_token_url << "\n"
      << "  drop_params:           " << (config.translation.drop_params ? "true" : "false")
      << "\n"
      << "  default max_tokens:    " << config.translation.default_max_tokens << "\n"
      << "  plan guard:            "
      << (config.plan_guard.enabled
              ? std::string("on") + (config.plan_guard.refuse_overage ? " (also overage)" : "")
              : std::string("off"))
      << "\n"
      << "  /metrics:              " << (config.metrics_public ? "public" : "needs the key")
      << "\n"
      << "  models:\n";
  for (const auto& alias : config.models.aliases()) {
    out << "    " << alias.name << " -> " << alias.upstream_id << "\n";
  }
  for (const auto& warning : config.warnings) {
    out << "  warning: " << warning << "\n";
  }
  return out.str();
}

}  // namespace claudegate::config
