// The claudegate binary as a process: start-up refusals and their exit codes, --check-config,
// --version, and a clean exit 0 on SIGTERM.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/test_client.hpp"

namespace claudegate::testing {
namespace {

const std::string kKey = "sk-process-test-0123456789abcdef0123456789";

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the binary with exactly `env` (no inherited environment), bounded by `timeout`.
ProcessResult RunClaudegate(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env,
                            std::chrono::seconds timeout = std::chrono::seconds(20)) {
  int out[2];
  EXPECT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    std::vector<std::string> env_strings;
    for (const auto& [name, value] : env) {
      env_strings.push_back(name + "=" + value);
    }
    std::vector<char*> envp;
    for (auto& entry : env_strings) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings = {CLAUDEGATE_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_strings) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    ::execve(CLAUDEGATE_BINARY, argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{out[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    char chunk[4096];
    const auto n = ::read(out[0], chunk, sizeof chunk);
    if (n <= 0) {
      break;
    }
    result.output.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return result;
}

TEST(Process, RefusesToStartWithoutAMasterKey) {
  auto result = RunClaudegate({}, {{"HOME", "/tmp"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("LITELLM_MASTER_KEY is not set"), std::string::npos);
  EXPECT_NE(result.output.find("openssl rand"), std::string::npos);
}

TEST(Process, RefusesAKeyWithoutTheSkPrefix) {
  auto result =
      RunClaudegate({}, {{"HOME", "/tmp"}, {"LITELLM_MASTER_KEY", "hunter2hunter2hunter2hunter2"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("must start with \"sk-\""), std::string::npos);
  EXPECT_EQ(result.output.find("hunter2"), std::string::npos);  // never echo the bad key
}

TEST(Process, RefusesUnknownFlagsAndBadConfigFiles) {
  EXPECT_EQ(RunClaudegate({"--bogus"}, {{"LITELLM_MASTER_KEY", kKey}}).exit_code, 2);
  auto missing = RunClaudegate({"--config", "/nonexistent.yaml"}, {{"LITELLM_MASTER_KEY", kKey}});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("cannot read config file"), std::string::npos);
}

TEST(Process, ChecksTheSeedConfigAndRedactsTheKey) {
  auto result =
      RunClaudegate({"--check-config", "--config",
                     std::string(CLAUDEGATE_TEST_DATA_DIR) + "/config/litellm_config.yaml"},
                    {{"LITELLM_MASTER_KEY", kKey},
                     {"CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-secret-secret-secret"},
                     {"DATABASE_URL", "postgresql://x"},
                     {"HOME", "/tmp"}});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.find(kKey), std::string::npos);
  EXPECT_EQ(result.output.find("secret-secret"), std::string::npos);
  EXPECT_NE(result.output.find("sonnet -> claude-sonnet-5-5"), std::string::npos);
  EXPECT_NE(result.output.find("drop_params:           true"), std::string::npos);
}

TEST(Process, PrintsVersionAndHelp) {
  auto version = RunClaudegate({"--version"}, {});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("claudegate " CLAUDEGATE_VERSION), std::string::npos);
  auto help = RunClaudegate({"--help"}, {});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--check-config"), std::string::npos);
}

TEST(Process, ServesThenExitsZeroOnSigterm) {
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::clearenv();
    ::setenv("LITELLM_MASTER_KEY", kKey.c_str(), 1);
    ::setenv("HOME", "/tmp/claudegate-no-home", 1);
    ::execl(CLAUDEGATE_BINARY, CLAUDEGATE_BINARY, "--host", "127.0.0.1", "--port", "0",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string log;
  std::uint16_t port = 0;
  while (port == 0) {
    pollfd ready{out[0], POLLIN, 0};
    if (::poll(&ready, 1, 10'000) <= 0) {
      break;
    }
    char chunk[4096];
    const auto n = ::read(out[0], chunk, sizeof chunk);
    if (n <= 0) {
      break;
    }
    log.append(chunk, static_cast<std::size_t>(n));
    if (auto at = log.find("listening on http://127.0.0.1:"); at != std::string::npos) {
      port = static_cast<std::uint16_t>(std::stoi(log.substr(at + 30)));
    }
  }
  if (port != 0) {
    // The health check subcommand (Docker's HEALTHCHECK) against the running daemon.
    auto probe = RunClaudegate(
        {"healthcheck", "http://127.0.0.1:" + std::to_string(port) + "/health/liveliness"}, {});
    EXPECT_EQ(probe.exit_code, 0) << probe.output;
    // Without credentials the daemon still serves, and API calls explain what to set.
    auto chat = Fetch(port, http::verb::post, "/v1/chat/completions", kKey,
                      R"({"model":"sonnet","messages":[{"role":"user","content":"x"}]})");
    ASSERT_TRUE(chat);
    EXPECT_EQ(chat->status, 503);
    EXPECT_NE(chat->body().find("CLAUDE_CODE_OAUTH_TOKEN"), std::string::npos) << chat->body();
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out[0]);
  ASSERT_NE(port, 0) << log;
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto dead_probe = RunClaudegate(
      {"healthcheck", "http://127.0.0.1:" + std::to_string(port) + "/health/liveliness"}, {});
  EXPECT_NE(dead_probe.exit_code, 0);
}

}  // namespace
}  // namespace claudegate::testing
