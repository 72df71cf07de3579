#include "claudegate/credentials/file_credential_source.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "credentials_test_support.hpp"

namespace claudegate::credentials {
namespace {

using nlohmann::ordered_json;
using testing::CredentialsJson;
using testing::Json;
using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'800'000'000'000;  // The injected "now", in ms.
constexpr const char* kOldAccess = "sk-ant-oat01-OLD";
constexpr const char* kOldRefresh = "sk-ant-ort01-OLD";
constexpr const char* kNewAccess = "sk-ant-oat01-NEW";
constexpr const char* kNewRefresh = "sk-ant-ort01-NEW";
const std::string kSuccess =
    R"({"access_token":"sk-ant-oat01-NEW","refresh_token":"sk-ant-ort01-NEW",)"
    R"("expires_in":28800,"scope":"user:inference user:profile"})";

class FileCredentialSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(dir_);
    options_.now = [this] {
      return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
    };
    options_.backoff = BackoffPolicy{5s, 5min, 0.0};
    endpoint_.respond = [](const std::string&) { return Json(200, kSuccess); };
  }

  void WriteCredentials(const std::string& access, const std::string& refresh,
                        std::int64_t ms_left) {
    testing::WriteText(path_, CredentialsJson(access, refresh, kT0 + ms_left));
  }

  std::shared_ptr<FileCredentialSource> Make() {
    return FileCredentialSource::Create(dir_, endpoint_, ioc_.get_executor(), options_);
  }

  Result<Credential> Current(FileCredentialSource& source) {
    return testing::RunToCompletion(ioc_, source.Current());
  }

  // Drives the background refresh started by a proactive (non-blocking) Current() to its end.
  void Settle(const FileCredentialSource& source) {
    ASSERT_TRUE(
        testing::RunUntil(ioc_, [&] { return !source.Status()["refreshing"].get<bool>(); }));
  }

  Result<Credential> Rejected(FileCredentialSource& source, const std::string& access) {
    return testing::RunToCompletion(ioc_,
                                    source.OnRejected(Credential{CredentialKind::kOAuth, access}));
  }

  ordered_json OnDisk() const { return ordered_json::parse(testing::ReadText(path_)); }

  testing::TempDir tmp_;
  std::filesystem::path dir_ = tmp_.Path() / "claude";
  std::filesystem::path path_ = dir_ / ".credentials.json";
  std::atomic<std::int64_t> now_ms_{kT0};
  net::io_context ioc_;  // Before endpoint_: its gate channel must die before the io_context.
  testing::FakeTokenEndpoint endpoint_;
  FileCredentialSourceOptions options_;
};

TEST_F(FileCredentialSourceTest, ServesAFreshTokenWithoutRefreshing) {
  WriteCredentials(kOldAccess, kOldRefresh, 3'600'000);
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_TRUE(credential.has_value());
  EXPECT_EQ(credential->kind, CredentialKind::kOAuth);
  EXPECT_EQ(credential->secret, kOldAccess);
  EXPECT_EQ(endpoint_.Calls(), 0);
  EXPECT_TRUE(source->Ready());
}

struct ProactiveCase {
  std::int64_t ms_left;
  bool posts;
};

class ProactiveRefresh : public FileCredentialSourceTest,
                         public ::testing::WithParamInterface<ProactiveCase> {};

TEST_P(ProactiveRefresh, RefreshesOnlyWithinFiveMinutesOfExpiry) {
  WriteCredentials(kOldAccess, kOldRefresh, GetParam().ms_left);
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_TRUE(credential.has_value()) << credential.error().message;
  // A still-valid token is served at once (the refresh runs in the background); an expired one
  // waits for the refresh.
  const bool still_valid = GetParam().ms_left > 0;
  EXPECT_EQ(credential->secret, GetParam().posts && !still_valid ? kNewAccess : kOldAccess);
  Settle(*source);
  EXPECT_EQ(endpoint_.Calls(), GetParam().posts ? 1 : 0);
  EXPECT_EQ(Current(*source)->secret, GetParam().posts ? kNewAccess : kOldAccess);
}

INSTANTIATE_TEST_SUITE_P(Table, ProactiveRefresh,
                         ::testing::Values(ProactiveCase{3'600'000, false},
                                           ProactiveCase{360'000, false},
                                           ProactiveCase{240'000, true}, ProactiveCase{0, true},
                                           ProactiveCase{-3'600'000, true}));

TEST_F(FileCredentialSourceTest, RefreshWritesBackPreservingEverythingElse) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  const auto inode_before = testing::StatOf(path_).st_ino;
  auto source = Make();
  ASSERT_TRUE(Current(*source).has_value());

  const auto disk = OnDisk();
  EXPECT_EQ(disk["claudeAiOauth"]["accessToken"], kNewAccess);
  EXPECT_EQ(disk["claudeAiOauth"]["refreshToken"], kNewRefresh);
  EXPECT_EQ(disk["claudeAiOauth"]["expiresAt"], kT0 + 28'800'000);
  EXPECT_EQ(disk["claudeAiOauth"]["futureField"]["nested"], true);
  EXPECT_EQ(disk["claudeAiOauth"]["subscriptionType"], "max");
  EXPECT_EQ(disk["mcpOAuth"]["server|abc"]["accessToken"], "mcp-token");
  EXPECT_EQ(disk["pluginSecrets"]["plugin"], "secret");
  EXPECT_NE(testing::StatOf(path_).st_ino, inode_before);
  EXPECT_EQ(testing::StatOf(path_).st_mode & 0777, 0600);
  // All locks released.
  EXPECT_FALSE(std::filesystem::exists(RefreshLockPath(dir_)));
  EXPECT_FALSE(std::filesystem::exists(LegacyLockPath(dir_)));
  EXPECT_FALSE(std::filesystem::exists(StorageWriteLockPath(dir_)));

  const auto body = ordered_json::parse(endpoint_.Bodies().at(0));
  EXPECT_EQ(body["refresh_token"], kOldRefresh);
  EXPECT_EQ(body["client_id"], kDefaultClientId);

  const auto status = source->Status();
  EXPECT_EQ(status["last_refresh"]["outcome"], "refreshed");
  // Only outcomes that happened, by label (the /metrics refresh counter reads this object).
  EXPECT_EQ(status["refresh_counts"], nlohmann::json({{"refreshed", 1}}));
  EXPECT_EQ(status["persisted"], true);
  EXPECT_EQ(status["seconds_until_expiry"], 28'800);
  EXPECT_EQ(status.dump().find("sk-ant"), std::string::npos) << "Status() leaked a token";
}

TEST_F(FileCredentialSourceTest, ResponseWithoutRefreshTokenKeepsTheOldOne) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  endpoint_.respond = [](const std::string&) {
    return Json(200, R"({"access_token":"sk-ant-oat01-NEW","expires_in":28800})");
  };
  auto source = Make();
  ASSERT_TRUE(Current(*source).has_value());
  EXPECT_EQ(OnDisk()["claudeAiOauth"]["accessToken"], kNewAccess);
  EXPECT_EQ(OnDisk()["claudeAiOauth"]["refreshToken"], kOldRefresh);
}

TEST_F(FileCredentialSourceTest, TwentyConcurrentCallersOnFourThreadsTriggerExactlyOnePost) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  auto gate = std::make_shared<testing::FakeTokenEndpoint::Gate>(ioc_, 0);
  endpoint_.gate = gate;  // Post() waits until every caller has started.
  auto source = Make();
  constexpr int kCallers = 20;
  std::atomic<int> entered{0};
  std::mutex mutex;
  std::vector<Result<Credential>> results;
  for (int i = 0; i < kCallers; ++i) {
    net::co_spawn(
        ioc_,
        [&, i]() -> Awaitable<void> {
          if (entered.fetch_add(1) + 1 == kCallers) {
            gate->close();
          }
          // Half of them report the old token as rejected by upstream. (No co_await inside ?:
          // — GCC 12 double-destroys temporaries there.)
          Result<Credential> result;
          if (i % 2 == 0) {
            result = co_await source->Current();
          } else {
            const Credential rejected{CredentialKind::kOAuth, kOldAccess};
            result = co_await source->OnRejected(rejected);
          }
          const std::lock_guard lock(mutex);
          results.push_back(std::move(result));
        },
        net::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] { ioc_.run_for(20s); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(endpoint_.Calls(), 1);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kCallers));
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->secret, kNewAccess);
  }
}

TEST_F(FileCredentialSourceTest, RejectedCurrentTokenForcesARefresh) {
  WriteCredentials(kOldAccess, kOldRefresh, 3'600'000);
  auto source = Make();
  auto credential = Rejected(*source, kOldAccess);
  ASSERT_TRUE(credential.has_value());
  EXPECT_EQ(credential->secret, kNewAccess);
  EXPECT_EQ(endpoint_.Calls(), 1);
}

TEST_F(FileCredentialSourceTest, RejectionOfAnOlderTokenReturnsTheCurrentOneWithoutRefreshing) {
  WriteCredentials(kOldAccess, kOldRefresh, 3'600'000);
  auto source = Make();
  auto credential = Rejected(*source, "sk-ant-oat01-SOMETHING-OLDER");
  ASSERT_TRUE(credential.has_value());
  EXPECT_EQ(credential->secret, kOldAccess);
  EXPECT_EQ(endpoint_.Calls(), 0);
}

TEST_F(FileCredentialSourceTest, PicksUpARewriteByAnotherProcess) {
  WriteCredentials(kOldAccess, kOldRefresh, 3'600'000);
  auto source = Make();
  ASSERT_EQ(Current(*source)->secret, kOldAccess);
  CredentialsFile(path_)
      .Write(ordered_json::parse(
          CredentialsJson("sk-ant-oat01-CLI", "sk-ant-ort01-CLI", 7'200'000 + kT0)))
      .value();
  EXPECT_EQ(Current(*source)->secret, "sk-ant-oat01-CLI");
  EXPECT_EQ(endpoint_.Calls(), 0);
}

TEST_F(FileCredentialSourceTest, SkipsTheRequestWhenTheTokenChangedBeforeTheLockWasTaken) {
  // Same-length tokens rewritten in place with the old mtime restored: the cheap stat check
  // cannot see the change, so only the re-read under the refresh lock can.
  WriteCredentials("sk-ant-oat01-AAAA", "sk-ant-ort01-AAAA", 3'600'000);
  auto source = Make();
  ASSERT_EQ(Current(*source)->secret, "sk-ant-oat01-AAAA");
  const auto before = testing::StatOf(path_);
  WriteCredentials("sk-ant-oat01-BBBB", "sk-ant-ort01-BBBB", 3'600'000 + 7'200'000);
  const std::array<timespec, 2> times{before.st_atim, before.st_mtim};
  ::utimensat(AT_FDCWD, path_.c_str(), times.data(), 0);
  ASSERT_EQ(testing::StatOf(path_).st_ino, before.st_ino);

  now_ms_ += 3'600'000 + 1'000;  // Expired as far as the cache knows: the caller waits.
  auto credential = Current(*source);
  ASSERT_TRUE(credential.has_value());
  EXPECT_EQ(credential->secret, "sk-ant-oat01-BBBB");
  EXPECT_EQ(endpoint_.Calls(), 0);
  EXPECT_EQ(source->Status()["last_refresh"]["outcome"], "adopted_sibling");
}

TEST_F(FileCredentialSourceTest, AdoptsASiblingsWriteInsteadOfClobberingIt) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  endpoint_.respond = [this](const std::string&) {
    // A sibling (ignoring the locks) rotates the tokens while our request is in flight.
    CredentialsFile(path_)
        .Write(ordered_json::parse(
            CredentialsJson("sk-ant-oat01-SIB", "sk-ant-ort01-SIB", kT0 + 7'200'000)))
        .value();
    return Json(200, kSuccess);
  };
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_TRUE(credential.has_value());
  EXPECT_EQ(credential->secret, "sk-ant-oat01-SIB");
  EXPECT_EQ(OnDisk()["claudeAiOauth"]["refreshToken"], "sk-ant-ort01-SIB");
  EXPECT_EQ(source->Status()["last_refresh"]["outcome"], "adopted_sibling");
}

TEST_F(FileCredentialSourceTest, InvalidGrantAfterSiblingRotationAdoptsTheRotatedTokens) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  endpoint_.respond = [this](const std::string&) {
    CredentialsFile(path_)
        .Write(ordered_json::parse(
            CredentialsJson("sk-ant-oat01-SIB", "sk-ant-ort01-SIB", kT0 + 7'200'000)))
        .value();
    return Json(
        400,
        R"({"error":"invalid_grant","error_description":"Refresh token not found or invalid"})");
  };
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_TRUE(credential.has_value()) << credential.error().message;
  EXPECT_EQ(credential->secret, "sk-ant-oat01-SIB");
  EXPECT_EQ(OnDisk()["claudeAiOauth"]["refreshToken"], "sk-ant-ort01-SIB");  // Not wiped.
  EXPECT_TRUE(source->Ready());
}

TEST_F(FileCredentialSourceTest, InvalidGrantOnUnchangedFileMarksTheTokenDeadLikeTheCli) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  endpoint_.respond = [](const std::string&) {
    return Json(400, R"({"error":"invalid_grant","error_description":"Refresh token expired"})");
  };
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_FALSE(credential.has_value());
  EXPECT_EQ(credential.error().kind, ErrorKind::kCredentialUnavailable);
  EXPECT_NE(credential.error().message.find("claude login"), std::string::npos);

  const auto disk = OnDisk();
  EXPECT_EQ(disk["claudeAiOauth"]["refreshToken"], "");
  EXPECT_EQ(disk["claudeAiOauth"]["accessToken"], "");
  EXPECT_EQ(disk["claudeAiOauth"]["expiresAt"], 0);
  EXPECT_EQ(disk["claudeAiOauth"]["futureField"]["nested"], true);
  EXPECT_EQ(disk["pluginSecrets"]["plugin"], "secret");
  EXPECT_FALSE(source->Ready());
  EXPECT_EQ(source->Status()["logged_out"], true);
  EXPECT_FALSE(Current(*source).has_value());
  EXPECT_EQ(endpoint_.Calls(), 1);  // Never retried.
}

TEST_F(FileCredentialSourceTest, TransientFailureBacksOffAndKeepsServingTheValidToken) {
  WriteCredentials(kOldAccess, kOldRefresh, 240'000);
  endpoint_.respond = [](const std::string&) { return Json(503, "unavailable"); };
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
  Settle(*source);
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
  EXPECT_EQ(endpoint_.Calls(), 1);  // Second call inside the 5 s backoff.
  EXPECT_EQ(source->Status()["last_refresh"]["outcome"], "failed");
  EXPECT_EQ(source->Status()["next_refresh_attempt_in_seconds"], 5);

  now_ms_ += 5'000;
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
  Settle(*source);
  EXPECT_EQ(endpoint_.Calls(), 2);
  now_ms_ += 5'000;  // Second failure doubled the delay to 10 s.
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
  Settle(*source);
  EXPECT_EQ(endpoint_.Calls(), 2);

  endpoint_.respond = [](const std::string&) { return Json(200, kSuccess); };
  now_ms_ += 5'000;
  EXPECT_EQ(Current(*source)->secret, kOldAccess);  // Still valid: served while refreshing.
  Settle(*source);
  EXPECT_EQ(endpoint_.Calls(), 3);
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
}

TEST_F(FileCredentialSourceTest, ExpiredTokenAndFailingRefreshIsAnError) {
  WriteCredentials(kOldAccess, kOldRefresh, -1);
  endpoint_.respond = [](const std::string&) {
    return Result<TokenHttpResponse>(
        Error{ErrorKind::kUpstreamUnreachable, "connect failed", {}, {}});
  };
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_FALSE(credential.has_value());
  EXPECT_EQ(credential.error().kind, ErrorKind::kServiceUnavailable);
  EXPECT_NE(credential.error().message.find("connect failed"), std::string::npos);
  EXPECT_FALSE(source->Ready());
}

TEST_F(FileCredentialSourceTest, InvalidScopeRetriesOnceWithStoredScopes) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  endpoint_.respond = [](const std::string& body) {
    const auto scope = ordered_json::parse(body)["scope"].get<std::string>();
    return scope.find("user:plugins") != std::string::npos
               ? Json(400, R"({"error":"invalid_scope"})")
               : Json(200, kSuccess);
  };
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
  ASSERT_EQ(endpoint_.Calls(), 2);
  EXPECT_EQ(ordered_json::parse(endpoint_.Bodies()[1])["scope"],
            "user:inference user:profile user:projects:read");
}

struct LockCase {
  const char* name;
  bool legacy;
};

class HeldLock : public FileCredentialSourceTest, public ::testing::WithParamInterface<LockCase> {};

TEST_P(HeldLock, FreshLockOfAnotherProcessIsRespected) {
  WriteCredentials(kOldAccess, kOldRefresh, 240'000);
  const auto lock = GetParam().legacy ? LegacyLockPath(dir_) : RefreshLockPath(dir_);
  ASSERT_TRUE(std::filesystem::create_directory(lock));
  options_.refresh_lock.retries = 0;
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kOldAccess);  // Still valid: served meanwhile.
  Settle(*source);
  EXPECT_EQ(endpoint_.Calls(), 0);
  EXPECT_TRUE(std::filesystem::is_directory(lock));
  EXPECT_EQ(source->Status()["last_refresh"]["outcome"], "failed");
}

TEST_P(HeldLock, StaleLockIsTakenOver) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);
  const auto lock = GetParam().legacy ? LegacyLockPath(dir_) : RefreshLockPath(dir_);
  ASSERT_TRUE(std::filesystem::create_directory(lock));
  testing::Age(lock, 60s);
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
  EXPECT_EQ(endpoint_.Calls(), 1);
  EXPECT_FALSE(std::filesystem::exists(lock));
}

INSTANTIATE_TEST_SUITE_P(Table, HeldLock,
                         ::testing::Values(LockCase{"RefreshLock", false},
                                           LockCase{"LegacyLock", true}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(FileCredentialSourceTest, ReadOnlyFileKeepsRefreshedTokensInMemory) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);  // Expired: callers wait.
  const std::string original = testing::ReadText(path_);
  options_.write_hook = [](CredentialsFile::WriteStep step) {
    return step == CredentialsFile::WriteStep::kCreateTemp ? EROFS : 0;
  };
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
  EXPECT_EQ(testing::ReadText(path_), original);
  EXPECT_EQ(source->Status()["persisted"], false);
  EXPECT_EQ(Current(*source)->secret, kNewAccess);  // Memory copy survives the next stat.
  EXPECT_EQ(endpoint_.Calls(), 1);

  // The next refresh must use the rotated refresh token held in memory.
  now_ms_ += 28'800'000;
  endpoint_.respond = [](const std::string&) {
    return Json(200, R"({"access_token":"sk-ant-oat01-THIRD","expires_in":28800})");
  };
  EXPECT_EQ(Current(*source)->secret, "sk-ant-oat01-THIRD");
  ASSERT_EQ(endpoint_.Calls(), 2);
  EXPECT_EQ(ordered_json::parse(endpoint_.Bodies()[1])["refresh_token"], kNewRefresh);
}

TEST_F(FileCredentialSourceTest, MissingFileSaysWhatToMountAndRecoversAfterLogin) {
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_FALSE(credential.has_value());
  EXPECT_EQ(credential.error().kind, ErrorKind::kCredentialUnavailable);
  EXPECT_NE(credential.error().message.find("claude login"), std::string::npos);
  EXPECT_NE(credential.error().message.find("CLAUDE_CODE_OAUTH_TOKEN"), std::string::npos);
  EXPECT_FALSE(source->Ready());
  EXPECT_EQ(source->Status()["logged_out"], true);

  WriteCredentials(kOldAccess, kOldRefresh, 3'600'000);
  EXPECT_TRUE(source->Ready());
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
}

TEST_F(FileCredentialSourceTest, LoggedOutFileIsNeverRefreshed) {
  WriteCredentials("", "", 0);
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_FALSE(credential.has_value());
  EXPECT_NE(credential.error().message.find("logged out"), std::string::npos);
  EXPECT_EQ(endpoint_.Calls(), 0);
  EXPECT_FALSE(source->Ready());
}

TEST_F(FileCredentialSourceTest, CorruptFileIsReportedAsCorrupt) {
  testing::WriteText(path_, "{\"claudeAiOauth\":");
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_FALSE(credential.has_value());
  EXPECT_EQ(credential.error().code, "credentials_corrupt");  // The label clients see.
  EXPECT_EQ(source->Status()["error"].get<std::string>().find("corrupt") != std::string::npos,
            true);
}

// Finding 5 (issue 14): a token endpoint that does not answer must not stall callers whose token
// still works. Before, every caller waited for the refresh in flight (up to wait_timeout, here an
// hour, so RunToCompletion would give up).
TEST_F(FileCredentialSourceTest, StillValidTokenIsServedAtOnceWhileTheRefreshHangs) {
  WriteCredentials(kOldAccess, kOldRefresh, 240'000);  // Inside the margin, still valid.
  auto gate = std::make_shared<testing::FakeTokenEndpoint::Gate>(ioc_, 0);
  endpoint_.gate = gate;  // The token request never answers until the gate closes.
  options_.wait_timeout = std::chrono::hours(1);
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
  ASSERT_TRUE(testing::RunUntil(ioc_, [&] { return endpoint_.Calls() == 1; }));
  EXPECT_EQ(Current(*source)->secret, kOldAccess);  // Again, with the refresh in flight.
  EXPECT_EQ(Rejected(*source, "sk-ant-oat01-SOMETHING-OLDER")->secret, kOldAccess);
  EXPECT_TRUE(source->Ready());
  EXPECT_EQ(endpoint_.Calls(), 1);
  gate->close();
  Settle(*source);
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
}

// Only a caller without a usable token waits, and only up to wait_timeout.
TEST_F(FileCredentialSourceTest, ExpiredTokenWaitsForTheHangingRefreshOnlyBoundedly) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);
  auto gate = std::make_shared<testing::FakeTokenEndpoint::Gate>(ioc_, 0);
  endpoint_.gate = gate;
  options_.wait_timeout = 200ms;
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_FALSE(credential.has_value());
  EXPECT_EQ(credential.error().kind, ErrorKind::kServiceUnavailable);
  EXPECT_NE(credential.error().message.find("timed out waiting"), std::string::npos);
  gate->close();
  Settle(*source);
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
}

// Finding 6 (issue 14): another process holds .storage-write.lock when the new tokens come back.
// Before, they stayed in memory and were never written: a restart lost the rotated refresh token.
TEST_F(FileCredentialSourceTest, UnsavedTokensAreSavedInTheBackgroundOnceTheLockIsFree) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);
  const auto write_lock = StorageWriteLockPath(dir_);
  endpoint_.respond = [&](const std::string&) {
    std::filesystem::create_directory(write_lock);  // "Another process" takes the lock now.
    return Json(200, kSuccess);
  };
  options_.write_lock.retries = 0;
  options_.save_retry = BackoffPolicy{50ms, 200ms, 0.0};
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
  EXPECT_EQ(OnDisk()["claudeAiOauth"]["refreshToken"], kOldRefresh);
  auto status = source->Status();
  EXPECT_EQ(status["persisted"], false);
  ASSERT_TRUE(status["unsaved"].is_object());
  EXPECT_NE(status["unsaved"]["error"].get<std::string>().find("held by another process"),
            std::string::npos);
  EXPECT_EQ(status.dump().find("sk-ant"), std::string::npos) << "Status() leaked a token";

  // Meanwhile the CLI, holding only the old (now spent) refresh token, marks it dead on disk
  // (its invalid_grant handling), and rewrites another key: neither may cost us the new tokens.
  auto dead = OnDisk();
  dead["claudeAiOauth"]["refreshToken"] = "";
  dead["claudeAiOauth"]["accessToken"] = "";
  dead["claudeAiOauth"]["expiresAt"] = 0;
  dead["claudeAiOauth"]["loginEnded"] = "time_limit";
  dead["mcpOAuth"]["other"] = "written by the CLI";
  testing::WriteText(path_, dead.dump());
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
  EXPECT_TRUE(source->Ready());
  EXPECT_EQ(endpoint_.Calls(), 1);

  std::filesystem::remove(write_lock);  // The other process is done.
  ASSERT_TRUE(testing::RunUntil(
      ioc_, [&] { return OnDisk()["claudeAiOauth"]["refreshToken"] == kNewRefresh; }));
  const auto disk = OnDisk();
  EXPECT_EQ(disk["claudeAiOauth"]["accessToken"], kNewAccess);
  EXPECT_EQ(disk["claudeAiOauth"]["expiresAt"], kT0 + 28'800'000);
  EXPECT_FALSE(disk["claudeAiOauth"].contains("loginEnded"));
  EXPECT_EQ(disk["mcpOAuth"]["other"], "written by the CLI");
  EXPECT_EQ(disk["pluginSecrets"]["plugin"], "secret");
  EXPECT_EQ(testing::StatOf(path_).st_mode & 0777, 0600);
  ASSERT_TRUE(testing::RunUntil(ioc_, [&] { return source->Status()["unsaved"].is_null(); }));
  EXPECT_EQ(source->Status()["persisted"], true);
  EXPECT_EQ(Current(*source)->secret, kNewAccess);
}

// The storage-write lock is taken before the refresh token is spent: while another process holds
// it, no token request is sent (nothing can be lost), and a still-valid token keeps being served.
TEST_F(FileCredentialSourceTest, NoTokenRequestWhileAnotherProcessHoldsTheWriteLock) {
  WriteCredentials(kOldAccess, kOldRefresh, 240'000);
  ASSERT_TRUE(std::filesystem::create_directory(StorageWriteLockPath(dir_)));
  options_.write_lock.retries = 0;
  auto source = Make();
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
  Settle(*source);
  EXPECT_EQ(endpoint_.Calls(), 0);
  EXPECT_EQ(source->Status()["last_refresh"]["outcome"], "failed");
  EXPECT_NE(source->Status()["last_refresh"]["error"].get<std::string>().find("storage_lock_busy"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(RefreshLockPath(dir_)));  // Released again.
}

// If a sibling refreshed while we waited for the write lock, its tokens are used without a request.
TEST_F(FileCredentialSourceTest, AdoptsTheTokensASiblingWroteWhileWeWaitedForTheWriteLock) {
  WriteCredentials(kOldAccess, kOldRefresh, -1'000);
  const auto write_lock = StorageWriteLockPath(dir_);
  ASSERT_TRUE(std::filesystem::create_directory(write_lock));
  options_.write_lock = LockOptions{15s, 200, 20ms, 20ms};
  auto source = Make();
  std::optional<Result<Credential>> result;
  net::co_spawn(ioc_, source->Current(),
                [&](std::exception_ptr, Result<Credential> r) { result = std::move(r); });
  // The sibling writes its refreshed tokens, then releases the write lock.
  ASSERT_TRUE(testing::RunUntil(ioc_, [&] { return source->Status()["refreshing"] == true; }));
  testing::WriteText(path_,
                     CredentialsJson("sk-ant-oat01-SIB", "sk-ant-ort01-SIB", kT0 + 7'200'000));
  std::filesystem::remove(write_lock);
  ASSERT_TRUE(testing::RunUntil(ioc_, [&] { return result.has_value(); }));
  ASSERT_TRUE(result->has_value()) << result->error().message;
  EXPECT_EQ((*result)->secret, "sk-ant-oat01-SIB");
  EXPECT_EQ(endpoint_.Calls(), 0);
}

// Finding 12 (issue 14): temporary files of writes interrupted by a crash are removed at start;
// a fresh one (a write in progress elsewhere) and anything not matching our patterns are kept.
TEST_F(FileCredentialSourceTest, RemovesAbandonedTemporaryFilesAtStart) {
  WriteCredentials(kOldAccess, kOldRefresh, 3'600'000);
  const auto at = [this](const std::string& suffix) {
    auto path = dir_ / (".credentials.json" + suffix);
    testing::WriteText(path, "{}");
    return path;
  };
  const auto stale_ours = at(".tmp.claudegate.0badc0de");
  testing::Age(stale_ours, 120s);
  const auto stale_legacy = at(".tmp.1234abcd");  // Earlier claudegate and CLI 2.1.197 pattern.
  testing::Age(stale_legacy, 2h);
  const auto fresh_ours = at(".tmp.claudegate.feedf00d");
  const auto fresh_legacy = at(".tmp.89abcdef");  // Could be the CLI writing right now.
  testing::Age(fresh_legacy, 120s);
  const auto foreign = at(".tmp.not-ours");
  testing::Age(foreign, 2h);
  const auto backup = dir_ / "credentials.json.tmp.0badc0de";  // Another file's name.
  testing::WriteText(backup, "{}");
  testing::Age(backup, 2h);

  auto source = Make();
  EXPECT_FALSE(std::filesystem::exists(stale_ours));
  EXPECT_FALSE(std::filesystem::exists(stale_legacy));
  EXPECT_TRUE(std::filesystem::exists(fresh_ours));
  EXPECT_TRUE(std::filesystem::exists(fresh_legacy));
  EXPECT_TRUE(std::filesystem::exists(foreign));
  EXPECT_TRUE(std::filesystem::exists(backup));
  EXPECT_TRUE(std::filesystem::exists(path_));
  EXPECT_EQ(Current(*source)->secret, kOldAccess);
}

// Finding 9 (issue 14): a FIFO at the path is reported, never opened blocking.
TEST_F(FileCredentialSourceTest, FifoAtThePathIsAnErrorNotAHang) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  auto source = Make();
  auto credential = Current(*source);
  ASSERT_FALSE(credential.has_value());
  EXPECT_EQ(credential.error().kind, ErrorKind::kCredentialUnavailable);
  EXPECT_NE(credential.error().message.find("FIFO"), std::string::npos);
  EXPECT_EQ(source->ReadinessState(), Readiness::kUnusable);
}

}  // namespace
}  // namespace claudegate::credentials
