// The refreshing credentials-file source wired into the real gateway, refreshing through the real
// HTTPS token endpoint client against the TLS fake (which serves both /v1/messages and the OAuth
// token endpoint).
#include <gtest/gtest.h>
#include <signal.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "claudegate/credentials/file_credential_source.hpp"
#include "claudegate/upstream/https_token_endpoint.hpp"
#include "support/fake_upstream.hpp"
#include "support/upstream_config.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A Claude config dir with a credentials file, removed afterwards.
class ClaudeDir {
 public:
  explicit ClaudeDir(std::int64_t expires_at_ms) {
    char pattern[] = "/tmp/claudegate-creds-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    const json document = {
        {"claudeAiOauth",
         {{"accessToken", "old-access"},
          {"refreshToken", "old-refresh"},
          {"expiresAt", expires_at_ms},
          {"scopes", {"user:inference", "user:profile"}},
          {"subscriptionType", "max"},
          {"futureField", {{"kept", true}}}}},
        {"mcpOAuth", {{"server", "token-for-mcp"}}}};
    std::ofstream(path()) << document.dump();
    ::chmod(path().c_str(), 0600);
  }
  ~ClaudeDir() { std::filesystem::remove_all(dir_); }
  ClaudeDir(const ClaudeDir&) = delete;
  ClaudeDir& operator=(const ClaudeDir&) = delete;
  [[nodiscard]] std::string dir() const { return dir_; }
  [[nodiscard]] std::string path() const { return dir_ + "/.credentials.json"; }
  [[nodiscard]] json Read() const { return json::parse(std::ifstream(path())); }

 private:
  std::string dir_;
};

json TokenAnswer() {
  return {{"access_token", "new-access"},
          {"refresh_token", "new-refresh"},
          {"expires_in", 28800},
          {"scope", "user:inference user:profile"}};
}

// Answers the token endpoint and /v1/messages; messages need the new token unless `accept_old`.
Handler FakeClaude(bool accept_old) {
  return [accept_old](const RecordedRequest& request) {
    if (request.target == "/v1/oauth/token") {
      return JsonResponse(TokenAnswer());
    }
    const bool fresh = request.header("authorization") == "Bearer new-access";
    if (!fresh && !accept_old) {
      return ErrorResponse(401, "authentication_error", "OAuth token has expired");
    }
    return SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  };
}

struct FileGateway {
  FileGateway(const FakeUpstream& upstream, const ClaudeDir& claude_dir)
      : gateway(ConfigFor(upstream), [&](net::io_context& io, upstream::UpstreamClient& client) {
          endpoint = std::make_unique<upstream::HttpsTokenEndpoint>(
              client, upstream.base_url() + "/v1/oauth/token");
          source = credentials::FileCredentialSource::Create(claude_dir.dir(), *endpoint,
                                                             net::make_strand(io));
          return source;
        }) {}

  // The gateway holds the last reference then, so the source (and its strand) goes before the
  // gateway's io_context does.
  ~FileGateway() { source.reset(); }
  FileGateway(const FileGateway&) = delete;
  FileGateway& operator=(const FileGateway&) = delete;

  std::unique_ptr<upstream::HttpsTokenEndpoint> endpoint;
  std::shared_ptr<credentials::FileCredentialSource> source;
  TestGateway gateway;
};

std::size_t TokenPosts(const FakeUpstream& upstream) {
  std::size_t n = 0;
  for (const auto& request : upstream.requests()) {
    n += request.target == "/v1/oauth/token" ? 1 : 0;
  }
  return n;
}

const std::string kChat = R"({"model":"sonnet","messages":[{"role":"user","content":"hi"}]})";

TEST(Credentials, RefreshesAnExpiredTokenOnceForTwentyConcurrentRequests) {
  FakeUpstream upstream(FakeClaude(false));
  ClaudeDir claude(NowMs() - 1000);
  struct stat before {};
  ::stat(claude.path().c_str(), &before);
  FileGateway fg(upstream, claude);

  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back([&] {
      auto response = Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions",
                            kTestMasterKey, kChat);
      ok += response && response->status == 200 ? 1 : 0;
    });
  }
  for (auto& client : clients) {
    client.join();
  }
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(TokenPosts(upstream), 1U);

  // The token request as the CLI sends it.
  for (const auto& request : upstream.requests()) {
    if (request.target == "/v1/oauth/token") {
      auto body = request.JsonBody();
      EXPECT_EQ(body["grant_type"], "refresh_token");
      EXPECT_EQ(body["refresh_token"], "old-refresh");
      EXPECT_EQ(body["client_id"], "9d1c250a-e61b-44d9-88ed-5944d1962f5e");
      EXPECT_TRUE(body["scope"].is_string());
      EXPECT_TRUE(request.header("user-agent").starts_with("claudegate/"));
    }
  }
  // Persisted atomically (new inode), mode 0600, everything else preserved.
  struct stat after {};
  ::stat(claude.path().c_str(), &after);
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(after.st_mode & 0777, 0600);
  auto document = claude.Read();
  EXPECT_EQ(document["claudeAiOauth"]["accessToken"], "new-access");
  EXPECT_EQ(document["claudeAiOauth"]["refreshToken"], "new-refresh");
  EXPECT_GT(document["claudeAiOauth"]["expiresAt"].get<std::int64_t>(), NowMs());
  EXPECT_EQ(document["claudeAiOauth"]["futureField"]["kept"], true);
  EXPECT_EQ(document["claudeAiOauth"]["subscriptionType"], "max");
  EXPECT_EQ(document["mcpOAuth"]["server"], "token-for-mcp");
}

TEST(Credentials, RefreshesProactivelyBeforeExpiry) {
  FakeUpstream upstream(FakeClaude(false));
  ClaudeDir claude(NowMs() + 60'000);  // inside the 5-minute margin
  FileGateway fg(upstream, claude);
  auto response = Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions",
                        kTestMasterKey, kChat);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(TokenPosts(upstream), 1U);
}

TEST(Credentials, RefreshesAndRetriesOnceWhenUpstreamSays401) {
  FakeUpstream upstream(FakeClaude(false));
  ClaudeDir claude(NowMs() + 3'600'000);  // looks valid, but upstream rejects it
  FileGateway fg(upstream, claude);
  auto response = Fetch(fg.gateway.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                        R"({"model":"sonnet","max_tokens":5,"messages":[]})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(TokenPosts(upstream), 1U);
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 3U);  // 401, token, retry
  EXPECT_EQ(requests[0].header("authorization"), "Bearer old-access");
  EXPECT_EQ(requests[2].header("authorization"), "Bearer new-access");
}

TEST(Credentials, ReportsStateInHealthAndReadiness) {
  FakeUpstream upstream(FakeClaude(true));
  ClaudeDir claude(NowMs() + 3'600'000);
  FileGateway fg(upstream, claude);
  auto ready = Fetch(fg.gateway.port(), http::verb::get, "/health/readiness");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto health = Fetch(fg.gateway.port(), http::verb::get, "/health", kTestMasterKey);
  ASSERT_TRUE(health);
  auto body = json::parse(health->body());
  EXPECT_EQ(body["credentials"]["source"], "credentials_file");
  EXPECT_EQ(health->body().find("old-access"), std::string::npos);
  EXPECT_EQ(health->body().find("old-refresh"), std::string::npos);
}

TEST(Credentials, ReadinessExplainsALoggedOutFile) {
  FakeUpstream upstream(FakeClaude(true));
  ClaudeDir claude(0);
  auto document = claude.Read();
  document["claudeAiOauth"]["refreshToken"] = "";
  document["claudeAiOauth"]["accessToken"] = "";
  std::ofstream(claude.path()) << document.dump();
  FileGateway fg(upstream, claude);
  auto ready = Fetch(fg.gateway.port(), http::verb::get, "/health/readiness");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  auto chat = Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey,
                    kChat);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 503);
  EXPECT_EQ(TokenPosts(upstream), 0U);
}

// The daemon process is killed (SIGKILL) while its refresh request is in flight: the file must
// still parse and hold a refresh token that works (the old one, never half-written).
TEST(Credentials, SurvivesBeingKilledMidRefresh) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    if (request.target == "/v1/oauth/token") {
      ScriptedResponse hang;
      hang.fault = ScriptedResponse::Fault::kNeverRespond;
      return hang;
    }
    return SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  });
  ClaudeDir claude(NowMs() - 1000);
  int log_pipe[2];
  ASSERT_EQ(::pipe(log_pipe), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("LITELLM_MASTER_KEY", kTestMasterKey.c_str(), 1);
    ::setenv("CLAUDE_CONFIG_DIR", claude.dir().c_str(), 1);
    ::setenv("ANTHROPIC_BASE_URL", upstream.base_url().c_str(), 1);
    ::setenv("CLAUDE_OAUTH_TOKEN_URL", (upstream.base_url() + "/v1/oauth/token").c_str(), 1);
    ::setenv("SSL_CERT_FILE", SharedTestCerts().ca_file.c_str(), 1);
    ::unsetenv("CLAUDE_CODE_OAUTH_TOKEN");
    ::unsetenv("ANTHROPIC_API_KEY");
    ::dup2(log_pipe[1], 2);
    ::close(log_pipe[0]);
    ::execl(CLAUDEGATE_BINARY, CLAUDEGATE_BINARY, "--host", "127.0.0.1", "--port", "0",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(log_pipe[1]);
  // Read the daemon's log (each read bounded by poll) until it names its port.
  std::uint16_t port = 0;
  std::string log;
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (port == 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd ready{log_pipe[0], POLLIN, 0};
    if (::poll(&ready, 1, 1000) <= 0) {
      continue;
    }
    char chunk[4096];
    const auto n = ::read(log_pipe[0], chunk, sizeof chunk);
    if (n <= 0) {
      break;
    }
    log.append(chunk, static_cast<std::size_t>(n));
    if (auto at = log.find("listening on http://127.0.0.1:"); at != std::string::npos) {
      port = static_cast<std::uint16_t>(std::stoi(log.substr(at + 30)));
    }
  }
  if (port == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ASSERT_NE(port, 0) << "daemon did not start: " << log;
  std::thread client([port] {
    TestClient(port, seconds(5)).Request(
        http::verb::post, "/v1/chat/completions", kChat,
        {{"authorization", "Bearer " + kTestMasterKey}});
  });
  const bool refreshing = upstream.WaitForRequests(1, seconds(10));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  client.join();
  ::close(log_pipe[0]);
  ASSERT_TRUE(refreshing);
  auto document = claude.Read();  // parses: never half-written
  EXPECT_EQ(document["claudeAiOauth"]["refreshToken"], "old-refresh");
  EXPECT_EQ(document["mcpOAuth"]["server"], "token-for-mcp");
}

}  // namespace
}  // namespace claudegate::testing
