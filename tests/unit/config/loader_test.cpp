#include "claudegate/config/loader.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace claudegate::config {
namespace {

const std::string kKey = "sk-0123456789abcdef0123456789abcdef";

std::string SeedConfigPath() {
  return std::string(CLAUDEGATE_TEST_DATA_DIR) + "/config/litellm_config.yaml";
}

// A YAML file in a fresh temporary directory, removed with the fixture.
class TempYaml {
 public:
  explicit TempYaml(const std::string& text) {
    char pattern[] = "/tmp/claudegate-config-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    path_ = dir_ + "/config.yaml";
    std::ofstream(path_) << text;
  }
  ~TempYaml() { std::filesystem::remove_all(dir_); }
  TempYaml(const TempYaml&) = delete;
  TempYaml& operator=(const TempYaml&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

Result<Config> Load(std::map<std::string, std::string> env, CommandLine flags = {}) {
  return LoadConfig(flags, MapEnvironment(std::move(env)));
}

TEST(LoadConfig, UsesDefaultsWithOnlyTheMasterKey) {
  auto config = Load({{"LITELLM_MASTER_KEY", kKey}}).value();
  EXPECT_EQ(config.master_key, kKey);
  EXPECT_EQ(config.host, "0.0.0.0");
  EXPECT_EQ(config.port, 4000);
  EXPECT_EQ(config.upstream.base_url, "https://api.anthropic.com");
  EXPECT_EQ(config.credentials.oauth_token_url, "https://platform.claude.com/v1/oauth/token");
  EXPECT_EQ(config.limits.max_body_bytes, 32U * 1024U * 1024U);
  EXPECT_EQ(config.logging.level, "info");
  EXPECT_EQ(config.models.Resolve("sonnet"), "claude-sonnet-5-5");
  EXPECT_EQ(config.models.Resolve("opus"), "claude-opus-5-5");
  EXPECT_EQ(config.models.Resolve("haiku"), "claude-haiku-5-5");
  EXPECT_TRUE(config.warnings.empty());
}

TEST(LoadConfig, RefusesAMissingMasterKeyAndSaysHowToMakeOne) {
  for (const auto& env :
       std::vector<std::map<std::string, std::string>>{{}, {{"LITELLM_MASTER_KEY", ""}}}) {
    auto config = Load(env);
    ASSERT_TRUE(config.has_error());
    EXPECT_NE(config.error().message.find("LITELLM_MASTER_KEY"), std::string::npos);
    EXPECT_NE(config.error().message.find("openssl rand"), std::string::npos);
  }
}

TEST(LoadConfig, RefusesAKeyWithoutTheSkPrefix) {
  auto config = Load({{"LITELLM_MASTER_KEY", "0123456789abcdef0123456789abcdef"}});
  ASSERT_TRUE(config.has_error());
  EXPECT_NE(config.error().message.find("sk-"), std::string::npos);
}

TEST(LoadConfig, WarnsAboutAShortKey) {
  auto config = Load({{"LITELLM_MASTER_KEY", "sk-1234"}}).value();
  ASSERT_EQ(config.warnings.size(), 1U);
  EXPECT_NE(config.warnings[0].find("short"), std::string::npos);
}

TEST(LoadConfig, ReadsEveryDocumentedEnvironmentVariable) {
  auto config = Load({{"LITELLM_MASTER_KEY", kKey},
                      {"HOST", "127.0.0.1"},
                      {"PORT", "4100"},
                      {"CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-x"},
                      {"CLAUDE_CONFIG_DIR", "/data/claude"},
                      {"ANTHROPIC_API_KEY", "sk-ant-api-y"},
                      {"ANTHROPIC_BASE_URL", "https://127.0.0.1:9999"},
                      {"CLAUDE_OAUTH_TOKEN_URL", "https://127.0.0.1:9999/v1/oauth/token"},
                      {"SSL_CERT_FILE", "/tmp/ca.pem"},
                      {"LOG_LEVEL", "DEBUG"},
                      {"DATABASE_URL", "postgresql://ignored"},
                      {"STORE_MODEL_IN_DB", "True"}})
                    .value();
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, 4100);
  EXPECT_EQ(config.credentials.oauth_token, "sk-ant-oat01-x");
  EXPECT_EQ(config.credentials.config_dir, "/data/claude");
  EXPECT_EQ(config.credentials.api_key, "sk-ant-api-y");
  EXPECT_EQ(config.upstream.base_url, "https://127.0.0.1:9999");
  EXPECT_EQ(config.credentials.oauth_token_url, "https://127.0.0.1:9999/v1/oauth/token");
  EXPECT_EQ(config.upstream.ssl_cert_file, "/tmp/ca.pem");
  EXPECT_EQ(config.logging.level, "debug");
}

TEST(LoadConfig, DefaultsTheClaudeConfigDirToHome) {
  auto config = Load({{"LITELLM_MASTER_KEY", kKey}, {"HOME", "/home/claude"}}).value();
  EXPECT_EQ(config.credentials.config_dir, "/home/claude/.claude");
}

struct LogLevelCase {
  std::map<std::string, std::string> env;
  std::string expected;
};

TEST(LoadConfig, MapsLogLevelsFromBothVariableNames) {
  const std::vector<LogLevelCase> cases = {
      {{{"LITELLM_LOG", "INFO"}}, "info"},
      {{{"LITELLM_LOG", "WARNING"}}, "warning"},
      {{{"LOG_LEVEL", "warn"}}, "warning"},
      {{{"LOG_LEVEL", "error"}, {"LITELLM_LOG", "DEBUG"}}, "error"},  // LOG_LEVEL wins.
  };
  for (const auto& c : cases) {
    auto env = c.env;
    env["LITELLM_MASTER_KEY"] = kKey;
    EXPECT_EQ(Load(env).value().logging.level, c.expected);
  }
  auto bad = Load({{"LITELLM_MASTER_KEY", kKey}, {"LOG_LEVEL", "loud"}});
  ASSERT_TRUE(bad.has_error());
  EXPECT_NE(bad.error().message.find("LOG_LEVEL"), std::string::npos);
}

TEST(LoadConfig, LoadsTheSeedConfigUnchanged) {
  CommandLine flags;
  flags.config_path = SeedConfigPath();
  auto config =
      Load({{"LITELLM_MASTER_KEY", kKey}, {"DATABASE_URL", "postgresql://x"}}, flags).value();
  EXPECT_EQ(config.master_key, kKey);  // via os.environ/LITELLM_MASTER_KEY
  EXPECT_TRUE(config.translation.drop_params);
  EXPECT_EQ(config.models.Resolve("sonnet"), "claude-sonnet-5-5");
  EXPECT_EQ(config.models.Resolve("opus"), "claude-opus-5-5");
  EXPECT_EQ(config.models.Resolve("default"), "claude-sonnet-5-5");
  EXPECT_EQ(config.models.Resolve("claude-3-5-haiku-20241022"), "claude-3-5-haiku-20241022");
  // Listed in file order, then the built-in haiku alias the file does not define.
  std::vector<std::string> names;
  for (const auto& alias : config.models.aliases()) {
    names.push_back(alias.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"sonnet", "claude-3-5-haiku-20241022", "opus",
                                             "default", "haiku"}));
  // database_url and custom_provider_map are explained, not fatal.
  bool noted_provider_map = false;
  for (const auto& warning : config.warnings) {
    noted_provider_map |= warning.find("custom_provider_map") != std::string::npos;
  }
  EXPECT_TRUE(noted_provider_map);
}

TEST(LoadConfig, EnvironmentBeatsFileAndFlagsBeatEnvironment) {
  TempYaml yaml(R"(
general_settings:
  master_key: sk-from-file-000000000000000000000
claudegate:
  host: 10.0.0.1
  port: 5000
  log_level: error
)");
  CommandLine flags;
  flags.config_path = yaml.path();
  auto from_file = Load({}, flags).value();
  EXPECT_EQ(from_file.master_key, "sk-from-file-000000000000000000000");
  EXPECT_EQ(from_file.host, "10.0.0.1");
  EXPECT_EQ(from_file.port, 5000);
  EXPECT_EQ(from_file.logging.level, "error");

  auto from_env = Load({{"LITELLM_MASTER_KEY", kKey}, {"PORT", "6000"}}, flags).value();
  EXPECT_EQ(from_env.master_key, kKey);
  EXPECT_EQ(from_env.port, 6000);

  flags.port = 7000;
  flags.host = "127.0.0.1";
  auto from_flags = Load({{"LITELLM_MASTER_KEY", kKey}, {"PORT", "6000"}}, flags).value();
  EXPECT_EQ(from_flags.port, 7000);
  EXPECT_EQ(from_flags.host, "127.0.0.1");
}

TEST(LoadConfig, ReadsOwnSettingsSection) {
  TempYaml yaml(R"(
claudegate:
  log_json: true
  default_max_tokens: 1024
  limits:
    max_body_bytes: 1000
    max_header_bytes: 2000
    max_connections: 3
    header_timeout_ms: 4000
    idle_timeout_ms: 5000
    shutdown_grace_ms: 6000
  upstream:
    base_url: https://127.0.0.1:8443
    anthropic_version: "2023-06-01"
    extra_betas: [context-1m-2025-08-07]
    stream_idle_timeout_ms: 7000
    max_sse_event_bytes: 8000
  tls:
    cert_file: /tmp/cert.pem
    key_file: /tmp/key.pem
  auth_throttle:
    max_failures: 5
    window_ms: 8000
    block_ms: 9000
  trusted_proxies: [10.0.0.5, 192.168.0.0/16, "fd00::/8"]
)");
  CommandLine flags;
  flags.config_path = yaml.path();
  auto config = Load({{"LITELLM_MASTER_KEY", kKey}}, flags).value();
  EXPECT_TRUE(config.logging.json);
  EXPECT_EQ(config.translation.default_max_tokens, 1024);
  EXPECT_EQ(config.limits.max_body_bytes, 1000U);
  EXPECT_EQ(config.limits.max_header_bytes, 2000U);
  EXPECT_EQ(config.limits.max_connections, 3U);
  EXPECT_EQ(config.limits.header_timeout.count(), 4000);
  EXPECT_EQ(config.limits.idle_timeout.count(), 5000);
  EXPECT_EQ(config.limits.shutdown_grace.count(), 6000);
  EXPECT_EQ(config.upstream.base_url, "https://127.0.0.1:8443");
  EXPECT_EQ(config.upstream.extra_betas, std::vector<std::string>{"context-1m-2025-08-07"});
  EXPECT_EQ(config.upstream.stream_idle_timeout.count(), 7000);
  EXPECT_EQ(config.upstream.max_sse_event_bytes, 8000U);
  EXPECT_TRUE(config.tls.Enabled());
  EXPECT_EQ(config.auth_throttle.max_failures, 5U);
  EXPECT_EQ(config.auth_throttle.window.count(), 8000);
  EXPECT_EQ(config.auth_throttle.block.count(), 9000);
  EXPECT_EQ(config.trusted_proxies,
            (std::vector<std::string>{"10.0.0.5", "192.168.0.0/16", "fd00::/8"}));
}

TEST(LoadConfig, ThrottlesWrongKeysByDefaultAndCanBeTurnedOff) {
  auto defaults = Load({{"LITELLM_MASTER_KEY", kKey}}).value();
  EXPECT_EQ(defaults.auth_throttle.max_failures, 10U);
  EXPECT_EQ(defaults.auth_throttle.window.count(), 60'000);
  EXPECT_EQ(defaults.auth_throttle.block.count(), 300'000);
  EXPECT_TRUE(defaults.trusted_proxies.empty());

  TempYaml yaml("claudegate:\n  auth_throttle:\n    max_failures: 0\n");
  CommandLine flags;
  flags.config_path = yaml.path();
  EXPECT_EQ(Load({{"LITELLM_MASTER_KEY", kKey}}, flags).value().auth_throttle.max_failures, 0U);
}

struct BadFileCase {
  std::string yaml;
  std::string expected_in_message;
};

TEST(LoadConfig, ExplainsBadFiles) {
  const std::vector<BadFileCase> cases = {
      {"model_list: [\n", "not valid YAML"},
      {"- just\n- a list\n", "top level must be a mapping"},
      {"model_list: 3\n", "model_list must be a list"},
      {"model_list:\n  - litellm_params: {model: x}\n", "needs a model_name"},
      {"claudegate:\n  port: lots\n", "claudegate.port must be a whole number"},
      {"claudegate:\n  limits:\n    max_body_bytes: 0\n", "greater than zero"},
      {"litellm_settings:\n  drop_params: maybe\n", "drop_params must be true or false"},
      {"claudegate:\n  tls:\n    cert_file: /x.pem\n", "both a certificate and a key"},
      {"claudegate:\n  auth_throttle: 3\n", "auth_throttle must be a mapping"},
      {"claudegate:\n  auth_throttle:\n    block_ms: 0\n", "positive number of milliseconds"},
      {"claudegate:\n  trusted_proxies: 10.0.0.1\n", "must be a list"},
      {"claudegate:\n  trusted_proxies: [10.0.0.300]\n", "not an IP address or CIDR"},
      {"claudegate:\n  trusted_proxies: [\"10.0.0.0/33\"]\n", "not an IP address or CIDR"},
      {"claudegate:\n  prompt_caching: sometimes\n", "prompt_caching must be auto or off"},
      {"claudegate:\n  prompt_cache_ttl: 24h\n", "must be 5m or 1h"},
      {"model_list:\n  - model_name: s\n    litellm_params:\n      model: sonnet\n"
       "      cache_control_injection_points: {location: message}\n",
       "cache_control_injection_points must be a list"},
      {"model_list:\n  - model_name: s\n    litellm_params:\n      model: sonnet\n"
       "      cache_control_injection_points: [{location: message}]\n",
       "needs a role or an index"},
      {"model_list:\n  - model_name: s\n    litellm_params:\n      model: sonnet\n"
       "      cache_control_injection_points: [{location: message, role: critic}]\n",
       "role must be system, user, assistant or tool"},
      {"model_list:\n  - model_name: s\n    litellm_params:\n      model: sonnet\n"
       "      cache_control_injection_points: [{location: message, index: last}]\n",
       "index must be a whole number"},
  };
  for (const auto& c : cases) {
    TempYaml yaml(c.yaml);
    CommandLine flags;
    flags.config_path = yaml.path();
    auto config = Load({{"LITELLM_MASTER_KEY", kKey}}, flags);
    ASSERT_TRUE(config.has_error()) << c.yaml;
    EXPECT_NE(config.error().message.find(c.expected_in_message), std::string::npos)
        << config.error().message;
  }
  CommandLine flags;
  flags.config_path = "/nonexistent/claudegate.yaml";
  auto missing = Load({{"LITELLM_MASTER_KEY", kKey}}, flags);
  ASSERT_TRUE(missing.has_error());
  EXPECT_NE(missing.error().message.find("cannot read config file"), std::string::npos);
}

TEST(LoadConfig, CachesAutomaticallyByDefault) {
  const auto config = Load({{"LITELLM_MASTER_KEY", kKey}}).value();
  EXPECT_EQ(config.prompt_caching.mode, PromptCachingMode::kAuto);
  EXPECT_EQ(config.prompt_caching.ttl, CacheTtl::kFiveMinutes);
  EXPECT_FALSE(config.prompt_caching.messages_route);
  EXPECT_TRUE(config.prompt_caching.injection_points.empty());
}

TEST(LoadConfig, ReadsPromptCachingSettings) {
  TempYaml yaml(R"(claudegate:
  prompt_caching: off
  prompt_cache_ttl: 1h
  prompt_caching_messages: true
)");
  CommandLine flags;
  flags.config_path = yaml.path();
  const auto config = Load({{"LITELLM_MASTER_KEY", kKey}}, flags).value();
  EXPECT_EQ(config.prompt_caching.mode, PromptCachingMode::kOff);
  EXPECT_EQ(config.prompt_caching.ttl, CacheTtl::kOneHour);
  EXPECT_TRUE(config.prompt_caching.messages_route);
  EXPECT_NE(DescribeConfig(config).find("prompt caching:        off"), std::string::npos);
}

// LiteLLM drop-in: the injection points of a model_list entry, keyed by its model_name.
TEST(LoadConfig, ReadsLiteLlmCacheControlInjectionPoints) {
  TempYaml yaml(R"(model_list:
  - model_name: claude-sonnet
    litellm_params:
      model: anthropic/claude-sonnet-5-5
      cache_control_injection_points:
        - location: message
          role: system
        - location: message
          index: -1
          control: {type: ephemeral, ttl: 1h}
        - location: tool_config
  - model_name: plain
    litellm_params:
      model: sonnet
)");
  CommandLine flags;
  flags.config_path = yaml.path();
  const auto config = Load({{"LITELLM_MASTER_KEY", kKey}}, flags).value();
  const auto& points = config.prompt_caching.injection_points;
  ASSERT_EQ(points.size(), 1U);
  const auto& sonnet = points.at("claude-sonnet");
  ASSERT_EQ(sonnet.size(), 2U);
  EXPECT_EQ(sonnet[0].role, "system");
  EXPECT_FALSE(sonnet[0].index.has_value());
  EXPECT_EQ(sonnet[1].index, -1);
  EXPECT_EQ(sonnet[1].ttl, CacheTtl::kOneHour);
  ASSERT_EQ(config.warnings.size(), 1U);  // tool_config is Bedrock-only in LiteLLM
  EXPECT_NE(config.warnings[0].find("tool_config"), std::string::npos);
}

TEST(LoadConfig, WarnsAboutUnknownKeysWithoutFailing) {
  TempYaml yaml("surprise: 1\nclaudegate:\n  mystery: 2\n");
  CommandLine flags;
  flags.config_path = yaml.path();
  auto config = Load({{"LITELLM_MASTER_KEY", kKey}}, flags).value();
  ASSERT_EQ(config.warnings.size(), 2U);
}

TEST(DescribeConfig, RedactsEverySecret) {
  auto config = Load({{"LITELLM_MASTER_KEY", kKey},
                      {"CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-secretsecretsecret"},
                      {"ANTHROPIC_API_KEY", "sk-ant-api03-anothersecretvalue"}})
                    .value();
  const std::string text = DescribeConfig(config);
  EXPECT_EQ(text.find(kKey), std::string::npos);
  EXPECT_EQ(text.find("secretsecretsecret"), std::string::npos);
  EXPECT_EQ(text.find("anothersecretvalue"), std::string::npos);
  EXPECT_NE(text.find("sk-…cdef"), std::string::npos);
}

TEST(DescribeConfig, RedactsPasswordsInPrintedUrls) {
  auto config = Load({{"LITELLM_MASTER_KEY", kKey},
                      {"ANTHROPIC_BASE_URL", "https://gateuser:gatepass@proxy.example:8443/a"},
                      {"CLAUDE_OAUTH_TOKEN_URL", "https://tokuser:tokpass@auth.example/t"}})
                    .value();
  const std::string text = DescribeConfig(config);
  EXPECT_EQ(text.find("gatepass"), std::string::npos) << text;
  EXPECT_EQ(text.find("gateuser"), std::string::npos) << text;
  EXPECT_EQ(text.find("tokpass"), std::string::npos) << text;
  EXPECT_NE(text.find("https://(redacted)@proxy.example:8443/a"), std::string::npos) << text;
  EXPECT_NE(text.find("https://(redacted)@auth.example/t"), std::string::npos) << text;
}

TEST(RedactUrlUserinfo, HidesUserinfoOnly) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://api.anthropic.com", "https://api.anthropic.com"},
      {"https://u:p@h.example", "https://(redacted)@h.example"},
      {"https://u:p@h.example:8443/v1?x=1", "https://(redacted)@h.example:8443/v1?x=1"},
      {"http://token@h.example/", "http://(redacted)@h.example/"},
      {"https://u:p@ss@h.example/", "https://(redacted)@h.example/"},  // unescaped '@'
      {"https://h.example/path@not-userinfo", "https://h.example/path@not-userinfo"},
      {"https://h.example?q=a@b", "https://h.example?q=a@b"},
      {"not a url", "not a url"},
      {"", ""},
  };
  for (const auto& [url, expected] : cases) {
    EXPECT_EQ(RedactUrlUserinfo(url), expected) << url;
  }
}

struct FlagCase {
  std::vector<std::string> args;
  bool ok;
};

TEST(ParseCommandLine, AcceptsDocumentedFlagsAndRejectsOthers) {
  const std::vector<FlagCase> cases = {
      {{"--config", "x.yaml"}, true},
      {{"--config=x.yaml"}, true},
      {{"--port", "0"}, true},
      {{"--port", "65536"}, false},
      {{"--port", "12ab"}, false},
      {{"--host"}, false},
      {{"--check-config"}, true},
      {{"--version"}, true},
      {{"--help"}, true},
      {{"--frobnicate"}, false},
      {{"healthcheck"}, true},
      {{"healthcheck", "http://127.0.0.1:1/x"}, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ParseCommandLine(c.args).has_value(), c.ok) << c.args[0];
  }
  auto parsed = ParseCommandLine({"--host", "127.0.0.1", "--port=4001", "-c", "f.yaml"}).value();
  EXPECT_EQ(parsed.host, "127.0.0.1");
  EXPECT_EQ(parsed.port, 4001);
  EXPECT_EQ(parsed.config_path, "f.yaml");
}

}  // namespace
}  // namespace claudegate::config

namespace claudegate::config {
namespace {

// LiteLLM's retry and fallback keys, under router_settings or litellm_settings, and ours.
TEST(LoadConfig, ReadsRetriesAndFallbacksWhereLiteLlmPutsThem) {
  TempYaml yaml(R"(
general_settings:
  master_key: sk-from-file-000000000000000000000
litellm_settings:
  num_retries: 4
  request_timeout: 12.5
router_settings:
  retry_after: 0.25
  fallbacks: [{"opus": ["sonnet", "haiku"]}, {"sonnet": "haiku"}]
  context_window_fallbacks: [{"sonnet": ["claude-sonnet-5-5-1m"]}]
  routing_strategy: simple-shuffle
claudegate:
  retries:
    initial_backoff_ms: 100
    max_backoff_ms: 2000
    read_ahead_bytes: 0
)");
  CommandLine flags;
  flags.config_path = yaml.path();
  const auto config = Load({}, flags).value();
  EXPECT_EQ(config.retries.num_retries, 4U);
  EXPECT_EQ(config.retries.budget, std::chrono::milliseconds(12'500));
  EXPECT_EQ(config.retries.min_delay, std::chrono::milliseconds(250));
  EXPECT_EQ(config.retries.initial_backoff, std::chrono::milliseconds(100));
  EXPECT_EQ(config.retries.max_backoff, std::chrono::milliseconds(2000));
  EXPECT_EQ(config.retries.read_ahead_bytes, 0U);
  ASSERT_EQ(config.retries.fallbacks.size(), 2U);
  EXPECT_EQ(config.retries.fallbacks[0].model, "opus");
  EXPECT_EQ(config.retries.fallbacks[0].targets, (std::vector<std::string>{"sonnet", "haiku"}));
  EXPECT_EQ(config.retries.fallbacks[1].targets, (std::vector<std::string>{"haiku"}));
  ASSERT_EQ(config.retries.context_window_fallbacks.size(), 1U);
  const auto warned = std::any_of(config.warnings.begin(), config.warnings.end(), [](auto& w) {
    return w.find("router_settings.routing_strategy") != std::string::npos;
  });
  EXPECT_TRUE(warned);

  TempYaml bad(R"(
router_settings:
  fallbacks: {"opus": "sonnet"}
)");
  flags.config_path = bad.path();
  EXPECT_FALSE(Load({{"LITELLM_MASTER_KEY", kKey}}, flags));
}

TEST(LoadConfig, RetriesAreOnByDefault) {
  const auto config = Load({{"LITELLM_MASTER_KEY", kKey}}).value();
  EXPECT_EQ(config.retries.num_retries, 2U);
  EXPECT_EQ(config.retries.budget, std::chrono::seconds(30));
  EXPECT_TRUE(config.retries.fallbacks.empty());
}

}  // namespace
}  // namespace claudegate::config
