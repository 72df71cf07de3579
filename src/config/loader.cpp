#include "claudegate/config/loader.hpp"

#include <cstdlib>
#include <sstream>

#include "value_parsing.hpp"
#include "yaml_reader.hpp"
#include "yaml_store.hpp"

namespace claudegate::config {
namespace {

using detail::ConfigError;
using detail::NormalizeLogLevel;
using detail::ParseBool;
using detail::ParseInteger;
using detail::ReadYamlFile;

// The master key must carry LiteLLM's prefix; shorter than this is accepted with a warning.
constexpr std::size_t kShortKeyWarningLength = 24;
constexpr std::string_view kKeyHelp = "generate one with: echo \"sk-$(openssl rand -hex 32)\"";

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
  if (auto dir = NonEmpty(env, "CLAUDEGATE_DATA_DIR")) {
    config.store.data_dir = *dir;
  }
  return {};
}

Result<void> Validate(Config& config) {
  if (config.master_key.empty()) {
    return ConfigError(
        "LITELLM_MASTER_KEY is not set: claudegate will not start without a client key. Set it "
        "in .env or the environment (" +
        std::string(kKeyHelp) + ")");
  }
  if (!config.master_key.starts_with("sk-")) {
    return ConfigError(
        "LITELLM_MASTER_KEY must start with \"sk-\" (LiteLLM's convention, which "
        "clients expect); " +
        std::string(kKeyHelp));
  }
  if (config.master_key.size() < kShortKeyWarningLength) {
    config.warnings.push_back(
        "LITELLM_MASTER_KEY is short (" + std::to_string(config.master_key.size()) +
        " characters); a guessable key exposes your subscription. " + std::string(kKeyHelp));
  }
  if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
    return ConfigError(
        "listener TLS needs both a certificate and a key file "
        "(claudegate.tls.cert_file and claudegate.tls.key_file)");
  }
  if (!config.upstream.base_url.starts_with("https://") &&
      !config.upstream.base_url.starts_with("http://")) {
    return ConfigError("ANTHROPIC_BASE_URL must be an https:// URL, got '" +
                       RedactUrlUserinfo(config.upstream.base_url) + "'");
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
  if (config.store.data_dir.empty()) {
    config.store.data_dir = detail::DefaultDataDir(env);
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

std::string RedactUrlUserinfo(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return std::string(url);
  }
  const std::size_t authority = scheme_end + 3;
  // The authority ends at the first '/', '?' or '#'; userinfo is whatever precedes its last '@'
  // (a password may hold unescaped '@' in sloppy configs).
  const auto authority_end = url.find_first_of("/?#", authority);
  const std::string_view host_part = url.substr(authority, authority_end - authority);
  const auto at = host_part.rfind('@');
  if (at == std::string_view::npos) {
    return std::string(url);
  }
  return std::string(url.substr(0, authority)) + "(redacted)@" +
         std::string(url.substr(authority + at + 1));
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
      << " (per client "
      << (config.limits.max_connections_per_client == 0
              ? std::string("auto")
              : std::to_string(config.limits.max_connections_per_client))
      << "), bodies in flight " << config.limits.max_body_bytes_in_flight << " B\n"
      << "  timeouts:              header " << ms(config.limits.header_timeout) << ", idle "
      << ms(config.limits.idle_timeout) << ", shutdown grace " << ms(config.limits.shutdown_grace)
      << "\n"
      << "  upstream:              " << RedactUrlUserinfo(config.upstream.base_url)
      << " (anthropic-version " << config.upstream.anthropic_version << ")\n"
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
      << "  oauth token url:       " << RedactUrlUserinfo(config.credentials.oauth_token_url)
      << "\n"
      << "  drop_params:           " << (config.translation.drop_params ? "true" : "false") << "\n"
      << "  default max_tokens:    " << config.translation.default_max_tokens << "\n"
      << "  prompt caching:        "
      << (config.prompt_caching.mode == PromptCachingMode::kOff
              ? std::string("off")
              : std::string("auto, ttl ") +
                    (config.prompt_caching.ttl == CacheTtl::kOneHour ? "1h" : "5m") +
                    (config.prompt_caching.messages_route ? ", also /v1/messages"
                                                          : ", OpenAI routes only"))
      << "\n"
      << "  plan guard:            "
      << (config.plan_guard.enabled
              ? std::string("on") + (config.plan_guard.refuse_overage ? " (also overage)" : "")
              : std::string("off"))
      << "\n"
      << "  store:                 "
      << (config.store.enabled ? config.store.data_dir + " (ttl " +
                                     std::to_string(config.store.responses_ttl.count()) +
                                     " s, max " + std::to_string(config.store.max_size_mb) + " MB)"
                               : std::string("off"))
      << "\n"
      << "  /metrics:              " << (config.metrics_public ? "public" : "needs the key") << "\n"
      << "  auth throttle:         "
      << (config.auth_throttle.max_failures == 0
              ? std::string("off")
              : std::to_string(config.auth_throttle.max_failures) + " wrong keys per " +
                    ms(config.auth_throttle.window) + " -> refused for " +
                    ms(config.auth_throttle.block))
      << "\n"
      << "  trusted proxies:       ";
  if (config.trusted_proxies.empty()) {
    out << "none (clients are told apart by their TCP address)";
  }
  for (std::size_t i = 0; i < config.trusted_proxies.size(); ++i) {
    out << (i > 0 ? ", " : "") << config.trusted_proxies[i];
  }
  out << "\n"
      << "  models:\n";
  for (const auto& alias : config.models.aliases()) {
    out << "    " << alias.name << " -> " << alias.upstream_id;
    if (const auto points = config.prompt_caching.injection_points.find(alias.name);
        points != config.prompt_caching.injection_points.end()) {
      out << " (" << points->second.size() << " cache_control injection point(s))";
    }
    out << "\n";
  }
  for (const auto& warning : config.warnings) {
    out << "  warning: " << warning << "\n";
  }
  return out.str();
}

}  // namespace claudegate::config
