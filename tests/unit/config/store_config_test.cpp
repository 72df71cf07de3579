// The store's settings: `claudegate.store.*` in the YAML, CLAUDEGATE_DATA_DIR, and the default
// data directory per platform (XDG state directory, else ~/.local/state).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "claudegate/config/loader.hpp"

#include "support/temp_dir.hpp"

namespace claudegate::config {
namespace {

const std::string kKey = "sk-0123456789abcdef0123456789abcdef";

Result<Config> LoadWith(const std::string& yaml, std::map<std::string, std::string> env) {
  claudegate::testing::TempDir dir;
  const std::string path = dir.path() + "/config.yaml";
  std::ofstream(path) << yaml;
  env["LITELLM_MASTER_KEY"] = kKey;
  CommandLine flags;
  flags.config_path = path;
  return LoadConfig(flags, MapEnvironment(std::move(env)));
}

TEST(StoreConfig, DefaultsToTheXdgStateDirectoryThenHome) {
  struct Case {
    std::map<std::string, std::string> env;
    std::string data_dir;
  };
  const std::vector<Case> cases = {
      {{{"HOME", "/home/u"}}, "/home/u/.local/state/claudegate"},
      {{{"HOME", "/home/u"}, {"XDG_STATE_HOME", "/state"}}, "/state/claudegate"},
      // The XDG spec ignores a relative path.
      {{{"HOME", "/home/u"}, {"XDG_STATE_HOME", "state"}}, "/home/u/.local/state/claudegate"},
      {{{"HOME", "/home/u"}, {"CLAUDEGATE_DATA_DIR", "/data"}}, "/data"},
  };
  for (const auto& c : cases) {
    auto env = c.env;
    env["LITELLM_MASTER_KEY"] = kKey;
    auto config = LoadConfig({}, MapEnvironment(env)).value();
    EXPECT_EQ(config.store.data_dir, c.data_dir);
    EXPECT_TRUE(config.store.enabled);
    EXPECT_EQ(config.store.responses_ttl, std::chrono::hours(24 * 30));
    EXPECT_EQ(config.store.max_size_mb, 1024U);
  }
}

TEST(StoreConfig, ReadsTheStoreSectionAndTheEnvironmentWins) {
  auto config = LoadWith(R"(
claudegate:
  store:
    enabled: false
    data_dir: /from/yaml
    responses_ttl: 12h
    max_size_mb: 64
    max_queued_writes: 16
)",
                         {{"CLAUDEGATE_DATA_DIR", "/from/env"}})
                    .value();
  EXPECT_FALSE(config.store.enabled);
  EXPECT_EQ(config.store.data_dir, "/from/env");
  EXPECT_EQ(config.store.responses_ttl, std::chrono::hours(12));
  EXPECT_EQ(config.store.max_size_mb, 64U);
  EXPECT_EQ(config.store.max_queued_writes, 16U);
  EXPECT_EQ(
      LoadWith("claudegate:\n  store:\n    data_dir: /from/yaml\n", {}).value().store.data_dir,
      "/from/yaml");
}

TEST(StoreConfig, TtlTakesDaysHoursMinutesOrSeconds) {
  const std::vector<std::pair<std::string, std::int64_t>> good = {
      {"30d", 30 * 86400}, {"12h", 43200}, {"45m", 2700}, {"90s", 90}, {"3600", 3600}};
  for (const auto& [text, seconds] : good) {
    auto config = LoadWith("claudegate:\n  store:\n    responses_ttl: " + text + "\n", {});
    ASSERT_TRUE(config) << text;
    EXPECT_EQ(config->store.responses_ttl.count(), seconds) << text;
  }
  for (const std::string text : {"0", "-1d", "1w", "d", "1.5h", "[1]"}) {
    auto config = LoadWith("claudegate:\n  store:\n    responses_ttl: " + text + "\n", {});
    ASSERT_FALSE(config) << text;
    EXPECT_NE(config.error().message.find("claudegate.store.responses_ttl"), std::string::npos)
        << config.error().message;
  }
  EXPECT_FALSE(LoadWith("claudegate:\n  store:\n    max_size_mb: 0\n", {}));
  EXPECT_FALSE(LoadWith("claudegate:\n  store: 5\n", {}));
  auto unknown = LoadWith("claudegate:\n  store:\n    vacuum: true\n", {}).value();
  ASSERT_EQ(unknown.warnings.size(), 1U);
  EXPECT_NE(unknown.warnings[0].find("claudegate.store.vacuum"), std::string::npos);
}

}  // namespace
}  // namespace claudegate::config
