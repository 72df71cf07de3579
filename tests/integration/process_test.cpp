// The claudegate binary as a process: start-up refusals and their exit codes, --check-config,
// --version, and a clean exit 0 on SIGTERM.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>

#include "support/claudegate_process.hpp"
#include "support/test_client.hpp"

namespace claudegate::testing {
namespace {

const std::string kKey = "sk-process-test-0123456789abcdef0123456789";

TEST(Process, RefusesToStartWithoutAMasterKey) {
  auto result = RunClaudegate({.env = {{"HOME", "/tmp"}}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("LITELLM_MASTER_KEY is not set"), std::string::npos);
  EXPECT_NE(result.output.find("openssl rand"), std::string::npos);
}

TEST(Process, RefusesAKeyWithoutTheSkPrefix) {
  auto result = RunClaudegate(
      {.env = {{"HOME", "/tmp"}, {"LITELLM_MASTER_KEY", "hunter2hunter2hunter2hunter2"}}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("must start with \"sk-\""), std::string::npos);
  EXPECT_EQ(result.output.find("hunter2"), std::string::npos);  // never echo the bad key
}

TEST(Process, RefusesUnknownFlagsAndBadConfigFiles) {
  EXPECT_EQ(RunClaudegate({.args = {"--bogus"}, .env = {{"LITELLM_MASTER_KEY", kKey}}}).exit_code,
            2);
  auto missing = RunClaudegate(
      {.args = {"--config", "/nonexistent.yaml"}, .env = {{"LITELLM_MASTER_KEY", kKey}}});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("cannot read config file"), std::string::npos);
}

TEST(Process, ChecksTheSeedConfigAndRedactsTheKey) {
  auto result = RunClaudegate(
      {.args = {"--check-config", "--config",
                std::string(CLAUDEGATE_TEST_DATA_DIR) + "/config/litellm_config.yaml"},
       .env = {{"LITELLM_MASTER_KEY", kKey},
               {"CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-secret-secret-secret"},
               {"DATABASE_URL", "postgresql://x"},
               {"HOME", "/tmp"}}});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.find(kKey), std::string::npos);
  EXPECT_EQ(result.output.find("secret-secret"), std::string::npos);
  EXPECT_NE(result.output.find("sonnet -> claude-sonnet-5-5"), std::string::npos);
  EXPECT_NE(result.output.find("drop_params:           true"), std::string::npos);
}

TEST(Process, PrintsVersionAndHelp) {
  auto version = RunClaudegate({.args = {"--version"}});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("claudegate " CLAUDEGATE_VERSION), std::string::npos);
  auto help = RunClaudegate({.args = {"--help"}});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--check-config"), std::string::npos);
}

TEST(Process, ServesThenExitsZeroOnSigterm) {
  ClaudegateProcess daemon(
      {.args = {"--host", "127.0.0.1", "--port", "0"},
       .env = {{"LITELLM_MASTER_KEY", kKey}, {"HOME", "/tmp/claudegate-no-home"}}});
  ASSERT_TRUE(daemon.started());
  const std::uint16_t port = daemon.WaitForPort(std::chrono::seconds(15));
  if (port != 0) {
    // The health check subcommand (Docker's HEALTHCHECK) against the running daemon.
    auto probe = RunClaudegate({.args = {"healthcheck", "http://127.0.0.1:" + std::to_string(port) +
                                                            "/health/liveliness"}});
    EXPECT_EQ(probe.exit_code, 0) << probe.output;
    // Without credentials the daemon still serves, and API calls explain what to set.
    auto chat = Fetch(port, http::verb::post, "/v1/chat/completions", kKey,
                      R"({"model":"sonnet","messages":[{"role":"user","content":"x"}]})");
    ASSERT_TRUE(chat);
    EXPECT_EQ(chat->status, 503);
    EXPECT_NE(chat->body().find("CLAUDE_CODE_OAUTH_TOKEN"), std::string::npos) << chat->body();
  }
  daemon.Signal(SIGTERM);
  const int exit_code = daemon.Wait();
  ASSERT_NE(port, 0) << daemon.output();
  EXPECT_EQ(exit_code, 0);
  auto dead_probe = RunClaudegate(
      {.args = {"healthcheck", "http://127.0.0.1:" + std::to_string(port) + "/health/liveliness"}});
  EXPECT_NE(dead_probe.exit_code, 0);
}

}  // namespace
}  // namespace claudegate::testing
