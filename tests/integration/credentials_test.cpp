// The refreshing credentials-file source wired into the real gateway, refreshing through the real
// HTTPS token endpoint client against the TLS fake (which serves both /v1/messages and the OAuth
// token endpoint).
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claudegate/credentials/file_credential_source.hpp"
#include "claudegate/upstream/https_token_endpoint.hpp"

#include "support/claudegate_process.hpp"
#include "support/fake_upstream.hpp"
#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

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
    const json document = {{"claudeAiOauth",
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

// The upstream's 10-minute first-byte timeout, as in production: the token endpoint must not
// inherit it.
config::Config ProductionTimeouts(const FakeUpstream& upstream) {
  auto config = ConfigFor(upstream);
  config.upstream.first_byte_timeout = std::chrono::minutes(10);
  return config;
}

struct FileGateway {
  FileGateway(const FakeUpstream& upstream, const ClaudeDir& claude_dir,
              credentials::FileCredentialSourceOptions options = {},
              std::chrono::milliseconds token_timeout = std::chrono::seconds(30))
      : gateway(ProductionTimeouts(upstream),
                [&](net::io_context& io, upstream::UpstreamClient& client) {
                  endpoint = std::make_unique<upstream::HttpsTokenEndpoint>(
                      client, upstream.base_url() + "/v1/oauth/token", token_timeout);
                  source = credentials::FileCredentialSource::Create(
                      claude_dir.dir(), *endpoint, net::make_strand(io), std::move(options));
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
      auto response =
          Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
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
  auto response =
      Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
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

// Finding 11 (issue 14): the keyless readiness probe says ready or not with a coarse reason; the
// path, subscription type, expiry and token-endpoint error text are for the keyed /health only.
TEST(Credentials, ReadinessShowsNoCredentialDetails) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    if (request.target == "/v1/oauth/token") {
      return JsonResponse(
          {{"error", "invalid_client"}, {"error_description", "client-secret-detail-xyz"}}, 400);
    }
    return SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  });
  ClaudeDir claude(NowMs() - 1000);  // Expired, and the refresh fails.
  FileGateway fg(upstream, claude);
  auto chat =
      Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 503);
  auto ready = Fetch(fg.gateway.port(), http::verb::get, "/health/readiness");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  const auto body = json::parse(ready->body());
  EXPECT_EQ(body["status"], "unhealthy");
  EXPECT_EQ(body["reason"], "token_expired");
  for (const std::string& secret_ish :
       {claude.dir(), std::string("max"), std::string("expires"),
        std::string("client-secret-detail-xyz"), std::string("invalid_client"),
        std::string("credentials_file")}) {
    EXPECT_EQ(ready->body().find(secret_ish), std::string::npos) << secret_ish;
  }
  // The keyed /health still has every detail.
  auto health = Fetch(fg.gateway.port(), http::verb::get, "/health", kTestMasterKey);
  ASSERT_TRUE(health);
  EXPECT_NE(health->body().find(claude.dir()), std::string::npos);
  EXPECT_NE(health->body().find("client-secret-detail-xyz"), std::string::npos);
  EXPECT_NE(health->body().find("\"subscription_type\":\"max\""), std::string::npos);
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
  EXPECT_EQ(json::parse(ready->body())["reason"], "not_logged_in");
  auto chat =
      Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 503);
  EXPECT_EQ(TokenPosts(upstream), 0U);
}

// Issue 16, part 5: a gateway without a usable login must not answer Claude Code with
// overloaded_error, which it retries for minutes; api_error with x-should-retry: false makes the
// Anthropic SDKs stop at once and show the message, which says what to do.
TEST(Credentials, LoggedOutOnTheAnthropicRouteIsNotOverloadedAndNotRetried) {
  FakeUpstream upstream(FakeClaude(true));
  ClaudeDir claude(0);
  auto document = claude.Read();
  document["claudeAiOauth"]["refreshToken"] = "";
  document["claudeAiOauth"]["accessToken"] = "";
  std::ofstream(claude.path()) << document.dump();
  FileGateway fg(upstream, claude);
  auto messages = Fetch(fg.gateway.port(), http::verb::post, "/v1/messages", kTestMasterKey,
                        R"({"model":"claude-sonnet-5-5","max_tokens":5,"messages":[]})",
                        {{"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(messages);
  EXPECT_EQ(messages->status, 503);
  EXPECT_EQ(messages->header("x-should-retry"), "false");
  const auto body = json::parse(messages->body());
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "api_error");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("claude login"), std::string::npos);
  auto chat =
      Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 503);
  EXPECT_EQ(chat->header("x-should-retry"), "false");
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
  ClaudegateProcess daemon(
      {.args = {"--host", "127.0.0.1", "--port", "0"},
       .env = {{"LITELLM_MASTER_KEY", kTestMasterKey},
               {"HOME", "/tmp/claudegate-no-home"},
               {"CLAUDE_CONFIG_DIR", claude.dir()},
               {"ANTHROPIC_BASE_URL", upstream.base_url()},
               {"CLAUDE_OAUTH_TOKEN_URL", upstream.base_url() + "/v1/oauth/token"},
               {"SSL_CERT_FILE", SharedTestCerts().ca_file}}});
  const std::uint16_t port = daemon.WaitForPort(seconds(10));
  ASSERT_NE(port, 0) << "daemon did not start: " << daemon.output();
  std::thread client([port] {
    TestClient(port, seconds(5))
        .Request(http::verb::post, "/v1/chat/completions", kChat,
                 {{"authorization", "Bearer " + kTestMasterKey}});
  });
  const bool refreshing = upstream.WaitForRequests(1, seconds(10));
  daemon.Signal(SIGKILL);
  daemon.Wait();
  client.join();
  ASSERT_TRUE(refreshing);
  auto document = claude.Read();  // parses: never half-written
  EXPECT_EQ(document["claudeAiOauth"]["refreshToken"], "old-refresh");
  EXPECT_EQ(document["mcpOAuth"]["server"], "token-for-mcp");
}

Handler HangingTokenEndpoint(bool accept_old) {
  return [accept_old](const RecordedRequest& request) {
    if (request.target == "/v1/oauth/token") {
      ScriptedResponse hang;
      hang.fault = ScriptedResponse::Fault::kNeverRespond;
      return hang;
    }
    if (!accept_old && request.header("authorization") == "Bearer old-access") {
      return ErrorResponse(401, "authentication_error", "OAuth token has expired");
    }
    return SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  };
}

// Finding 5 (issue 14): a token endpoint that accepts the connection and never answers. The
// refresh fails after the token endpoint's own timeout (here 1 s), not the upstream's 10-minute
// first-byte timeout, and the waiting request gets its 503 then.
TEST(Credentials, HangingTokenEndpointFailsAfterItsOwnTimeout) {
  FakeUpstream upstream(HangingTokenEndpoint(false));
  ClaudeDir claude(NowMs() - 1000);  // Expired: the request has to wait for the refresh.
  FileGateway fg(upstream, claude, {}, std::chrono::seconds(1));
  // Fetch gives up after 10 s; before the fix the request was still waiting then (60 s).
  auto chat =
      Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 503);
  const auto status = fg.source->Status();
  EXPECT_EQ(status["last_refresh"]["outcome"], "failed");
  EXPECT_NE(status["last_refresh"]["error"].get<std::string>().find("did not answer within"),
            std::string::npos);
  EXPECT_EQ(TokenPosts(upstream), 1U);
}

// Finding 5 (issue 14): while that refresh hangs, requests whose token is still valid are served
// at once. Before, each waited up to 60 s for the refresh in flight.
TEST(Credentials, StillValidTokenIsServedAtOnceWhileTheRefreshHangs) {
  FakeUpstream upstream(HangingTokenEndpoint(true));
  ClaudeDir claude(NowMs() + 120'000);  // Inside the 5-minute margin, valid for two more.
  FileGateway fg(upstream, claude, {}, std::chrono::minutes(5));
  for (int i = 0; i < 3; ++i) {
    // Fetch gives up after 10 s: far below the 60 s a caller used to wait, far above the time a
    // served request takes.
    auto chat =
        Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
    ASSERT_TRUE(chat) << "request " << i << " waited for the hanging refresh";
    EXPECT_EQ(chat->status, 200);
  }
  EXPECT_EQ(TokenPosts(upstream), 1U);
  EXPECT_EQ(fg.source->Status()["refreshing"], true);  // Still hanging.
  auto ready = Fetch(fg.gateway.port(), http::verb::get, "/health/readiness");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

// Finding 6 (issue 14): another process holds .storage-write.lock when the new tokens arrive.
// /health says they are unsaved; once the lock is free the file holds the new refresh token
// (before: only in memory, never written, lost at restart).
TEST(Credentials, UnsavedRefreshIsReportedAndSavedOnceTheWriteLockIsFree) {
  ClaudeDir claude(NowMs() - 1000);
  const std::string write_lock = claude.dir() + "/.storage-write.lock";
  FakeUpstream upstream([&write_lock](const RecordedRequest& request) {
    if (request.target == "/v1/oauth/token") {
      ::mkdir(write_lock.c_str(), 0700);  // "Another process" takes the lock mid-refresh.
      return JsonResponse(TokenAnswer());
    }
    return SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  });
  credentials::FileCredentialSourceOptions options;
  options.write_lock.retries = 2;  // Give up on the lock quickly (the default waits ~7 s).
  options.save_retry = credentials::BackoffPolicy{milliseconds(100), milliseconds(500), 0.0};
  FileGateway fg(upstream, claude, options);
  auto chat =
      Fetch(fg.gateway.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200);
  EXPECT_EQ(claude.Read()["claudeAiOauth"]["refreshToken"], "old-refresh");

  auto health = Fetch(fg.gateway.port(), http::verb::get, "/health", kTestMasterKey);
  ASSERT_TRUE(health);
  auto body = json::parse(health->body());
  EXPECT_EQ(body["credentials"]["persisted"], false);
  ASSERT_TRUE(body["credentials"]["unsaved"].is_object()) << health->body();
  EXPECT_GE(body["credentials"]["unsaved"]["attempts"].get<int>(), 1);
  EXPECT_EQ(health->body().find("new-refresh"), std::string::npos);
  EXPECT_EQ(health->body().find("new-access"), std::string::npos);

  ASSERT_EQ(::rmdir(write_lock.c_str()), 0);  // The other process is done.
  EXPECT_TRUE(
      PollUntil([&] { return claude.Read()["claudeAiOauth"]["refreshToken"] == "new-refresh"; },
                seconds(30)));
  auto document = claude.Read();
  EXPECT_EQ(document["claudeAiOauth"]["accessToken"], "new-access");
  EXPECT_EQ(document["mcpOAuth"]["server"], "token-for-mcp");
  struct stat st {};
  ::stat(claude.path().c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_TRUE(PollUntil(
      [&] {
        auto after = Fetch(fg.gateway.port(), http::verb::get, "/health", kTestMasterKey);
        return after && json::parse(after->body())["credentials"]["unsaved"].is_null();
      },
      seconds(30)));
}

// Finding 9 (issue 14): a FIFO at .credentials.json. Opening it blocked until a writer came, on
// an io thread: the daemon never even said it was listening. Now it serves the probes and says
// what is wrong.
TEST(Credentials, FifoAtTheCredentialsPathIsReportedNotAHang) {
  FakeUpstream upstream(FakeClaude(true));
  char pattern[] = "/tmp/claudegate-fifo-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const std::string fifo = dir + "/.credentials.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ClaudegateProcess daemon(
      {.args = {"--host", "127.0.0.1", "--port", "0"},
       .env = {{"LITELLM_MASTER_KEY", kTestMasterKey},
               {"HOME", "/tmp/claudegate-no-home"},
               {"CLAUDE_CONFIG_DIR", dir},
               {"ANTHROPIC_BASE_URL", upstream.base_url()},
               {"CLAUDE_OAUTH_TOKEN_URL", upstream.base_url() + "/v1/oauth/token"},
               {"SSL_CERT_FILE", SharedTestCerts().ca_file}}});
  const std::uint16_t port = daemon.WaitForPort(seconds(15));
  if (port == 0) {
    std::filesystem::remove_all(dir);
    FAIL() << "daemon did not start: " << daemon.output();
  }
  auto alive = Fetch(port, http::verb::get, "/health/liveliness");
  auto ready = Fetch(port, http::verb::get, "/health/readiness");
  auto chat = Fetch(port, http::verb::post, "/v1/chat/completions", kTestMasterKey, kChat);
  auto health = Fetch(port, http::verb::get, "/health", kTestMasterKey);
  daemon.Signal(SIGKILL);
  daemon.Wait();
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(json::parse(ready->body())["reason"], "credentials_unusable");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 503);
  EXPECT_NE(chat->body().find("is a FIFO, not a regular file"), std::string::npos) << chat->body();
  ASSERT_TRUE(health);
  EXPECT_NE(health->body().find("is a FIFO, not a regular file"), std::string::npos);
  EXPECT_EQ(upstream.requests().size(), 0U);
}

}  // namespace
}  // namespace claudegate::testing
