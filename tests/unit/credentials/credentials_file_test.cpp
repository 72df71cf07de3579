#include "claudegate/credentials/credentials_file.hpp"

#include <csignal>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "claudegate/credentials/file_lock.hpp"

#include "credentials_test_support.hpp"

namespace claudegate::credentials {
namespace {

using nlohmann::ordered_json;
using testing::CredentialsJson;
using testing::TempDir;

TEST(ParseCredentials, ReadsTheClaudeAiOauthFields) {
  auto doc = ParseCredentials(CredentialsJson("sk-ant-oat01-a", "sk-ant-ort01-r", 1234));
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  EXPECT_EQ(doc->oauth.access_token, "sk-ant-oat01-a");
  EXPECT_EQ(doc->oauth.refresh_token, "sk-ant-ort01-r");
  EXPECT_EQ(doc->oauth.expires_at_ms, 1234);
  EXPECT_EQ(doc->oauth.scopes,
            (std::vector<std::string>{"user:inference", "user:profile", "user:projects:read"}));
  EXPECT_EQ(doc->oauth.subscription_type, "max");
  EXPECT_EQ(doc->oauth.rate_limit_tier, "default_claude_max_20x");
  EXPECT_FALSE(doc->oauth.client_id.has_value());
  EXPECT_FALSE(doc->oauth.LoggedOut());
}

TEST(ParseCredentials, EmptyRefreshTokenMeansLoggedOut) {
  auto doc =
      ParseCredentials(R"({"claudeAiOauth":{"accessToken":"","refreshToken":"","expiresAt":0}})");
  ASSERT_TRUE(doc.has_value());
  EXPECT_TRUE(doc->oauth.LoggedOut());
}

struct BadInput {
  const char* name;
  const char* text;
  FileProblem problem;
};

class ParseCredentialsErrors : public ::testing::TestWithParam<BadInput> {};

TEST_P(ParseCredentialsErrors, DistinguishesCorruptFromAbsent) {
  auto doc = ParseCredentials(GetParam().text);
  ASSERT_FALSE(doc.has_value());
  EXPECT_EQ(doc.error().problem, GetParam().problem);
  EXPECT_EQ(doc.error().message.find("secret"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseCredentialsErrors,
    ::testing::Values(
        BadInput{"NotJson", "{\"claudeAiOauth\": {\"accessToken\": \"secret",
                 FileProblem::kCorrupt},
        BadInput{"Empty", "", FileProblem::kCorrupt},
        BadInput{"Array", "[1,2]", FileProblem::kCorrupt},
        BadInput{"OauthNotObject", R"({"claudeAiOauth":"secret"})", FileProblem::kCorrupt},
        BadInput{"AccessTokenNumber", R"({"claudeAiOauth":{"accessToken":5})",
                 FileProblem::kCorrupt},
        BadInput{"ExpiresAtString", R"({"claudeAiOauth":{"expiresAt":"x"}})",
                 FileProblem::kCorrupt},
        BadInput{"ScopesNotStrings", R"({"claudeAiOauth":{"scopes":[1]}})", FileProblem::kCorrupt},
        BadInput{"NoOauth", R"({"mcpOAuth":{}})", FileProblem::kAbsent},
        BadInput{"NullOauth", R"({"claudeAiOauth":null})", FileProblem::kAbsent}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(CredentialsFile, MissingFileIsAbsentNotCorrupt) {
  TempDir dir;
  CredentialsFile file(dir.Path() / ".credentials.json");
  auto doc = file.Read();
  ASSERT_FALSE(doc.has_value());
  EXPECT_EQ(doc.error().problem, FileProblem::kAbsent);
  EXPECT_FALSE(file.Stat().exists);
}

TEST(CredentialsFile, RewritePreservesUnknownTopLevelKeysAndOauthFields) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("a", "r", 1));
  CredentialsFile file(path);
  auto doc = file.Read();
  ASSERT_TRUE(doc.has_value());
  doc->document["claudeAiOauth"]["accessToken"] = "b";
  ASSERT_TRUE(file.Write(doc->document).has_value());

  const auto written = ordered_json::parse(testing::ReadText(path));
  EXPECT_EQ(written["mcpOAuth"]["server|abc"]["accessToken"], "mcp-token");
  EXPECT_EQ(written["pluginSecrets"]["plugin"], "secret");
  EXPECT_EQ(written["claudeAiOauth"]["futureField"]["nested"], true);
  EXPECT_EQ(written["claudeAiOauth"]["accessToken"], "b");
  // Compact like JSON.stringify, key order kept.
  EXPECT_EQ(testing::ReadText(path), CredentialsJson("b", "r", 1));
}

TEST(CredentialsFile, WriteCreatesMode0600AndReplacesByRename) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("old", "r", 1));
  ::chmod(path.c_str(), 0644);
  // A second name for the old inode: if the write happened in place, it would change too.
  const auto old_link = dir.Path() / "old-inode";
  ASSERT_EQ(::link(path.c_str(), old_link.c_str()), 0);
  const auto before = testing::StatOf(path);

  CredentialsFile file(path);
  ASSERT_TRUE(file.Write(ordered_json::parse(CredentialsJson("new", "r", 1))).has_value());

  const auto after = testing::StatOf(path);
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(after.st_mode & 0777, 0600);
  EXPECT_EQ(testing::ReadText(old_link), CredentialsJson("old", "r", 1));
  EXPECT_EQ(testing::ReadText(path), CredentialsJson("new", "r", 1));
  // No temp file left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.Path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 2);
}

TEST(CredentialsFile, StampChangesWhenAnotherProcessRewritesTheFile) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("a", "r", 1));
  CredentialsFile file(path);
  const auto first = file.Stat();
  EXPECT_EQ(first, file.Stat());
  CredentialsFile other(path);
  ASSERT_TRUE(other.Write(ordered_json::parse(CredentialsJson("a", "r", 1))).has_value());
  EXPECT_NE(first, file.Stat());  // Same content, new inode.
}

TEST(CredentialsFile, InjectedReadOnlyFailureIsNotWritableAndLeavesFileIntact) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("old", "r", 1));
  CredentialsFile file(path, [](CredentialsFile::WriteStep step) {
    return step == CredentialsFile::WriteStep::kCreateTemp ? EROFS : 0;
  });
  auto written = file.Write(ordered_json::parse(CredentialsJson("new", "r", 1)));
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().problem, FileProblem::kNotWritable);
  EXPECT_EQ(testing::ReadText(path), CredentialsJson("old", "r", 1));
}

TEST(CredentialsFile, FailureAfterPartialWriteRemovesTempFile) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("old", "r", 1));
  CredentialsFile file(path, [](CredentialsFile::WriteStep step) {
    return step == CredentialsFile::WriteStep::kHalfWritten ? ENOSPC : 0;
  });
  auto written = file.Write(ordered_json::parse(CredentialsJson("new", "r", 1)));
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().problem, FileProblem::kWriteFailed);
  EXPECT_EQ(testing::ReadText(path), CredentialsJson("old", "r", 1));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.Path()), {}), 1);
}

TEST(CredentialsFile, ReadOnlyDirectoryIsNotWritable) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("old", "r", 1));
  ::chmod(dir.Path().c_str(), 0500);
  if (::access(dir.Path().c_str(), W_OK) == 0) {
    GTEST_SKIP() << "running as root: permission bits do not stop writes (the injected-EROFS "
                    "test covers this path)";
  }
  CredentialsFile file(path);
  auto written = file.Write(ordered_json::parse(CredentialsJson("new", "r", 1)));
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().problem, FileProblem::kNotWritable);
}

TEST(CredentialsFile, RefusesToReplaceASymlink) {
  TempDir dir;
  const auto target = dir.Path() / "real.json";
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(target, CredentialsJson("old", "r", 1));
  std::filesystem::create_symlink(target, path);
  CredentialsFile file(path);
  ASSERT_TRUE(file.Read().has_value());
  auto written = file.Write(ordered_json::parse(CredentialsJson("new", "r", 1)));
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().problem, FileProblem::kNotWritable);
  EXPECT_TRUE(std::filesystem::is_symlink(path));
}

TEST(CredentialsFile, CompareAndSwapWritesWhenRefreshTokenUnchanged) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("a1", "r1", 1));
  CredentialsFile file(path);
  auto lock = DirLock::TryAcquire(StorageWriteLockPath(dir.Path()), std::chrono::seconds(15));
  ASSERT_TRUE(lock.has_value());
  auto cas = file.CompareAndSwap(*lock, "r1", [](ordered_json& oauth) {
    oauth["accessToken"] = "a2";
    oauth["refreshToken"] = "r2";
  });
  ASSERT_TRUE(cas.has_value()) << cas.error().message;
  EXPECT_TRUE(cas->written);
  EXPECT_EQ(cas->document.oauth.refresh_token, "r2");
  EXPECT_EQ(cas->document.stamp, file.Stat());
  EXPECT_EQ(testing::ReadText(path), CredentialsJson("a2", "r2", 1));
}

TEST(CredentialsFile, CompareAndSwapRefusesToClobberAConcurrentRewrite) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("a1", "r1", 1));
  CredentialsFile file(path);
  ASSERT_TRUE(file.Read().has_value());
  // A sibling rotates the tokens after we read them.
  testing::WriteText(path, CredentialsJson("sibling-a", "sibling-r", 2));

  auto lock = DirLock::TryAcquire(StorageWriteLockPath(dir.Path()), std::chrono::seconds(15));
  ASSERT_TRUE(lock.has_value());
  bool mutated = false;
  auto cas = file.CompareAndSwap(*lock, "r1", [&](ordered_json&) { mutated = true; });
  ASSERT_TRUE(cas.has_value());
  EXPECT_FALSE(cas->written);
  EXPECT_FALSE(mutated);
  EXPECT_EQ(cas->document.oauth.access_token, "sibling-a");
  EXPECT_EQ(testing::ReadText(path), CredentialsJson("sibling-a", "sibling-r", 2));
}

TEST(CredentialsFile, CompareAndSwapRequiresTheWriteLock) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  testing::WriteText(path, CredentialsJson("a1", "r1", 1));
  CredentialsFile file(path);
  const DirLock not_held;
  EXPECT_FALSE(file.CompareAndSwap(not_held, "r1", [](ordered_json&) {}).has_value());
}

// Crash safety: a child process writes and is SIGKILLed at each step of the write; the parent
// must then find either the complete old or the complete new document, never a mix.
class CrashDuringWrite : public ::testing::TestWithParam<CredentialsFile::WriteStep> {};

TEST_P(CrashDuringWrite, FileIsAlwaysOldOrNewCompleteDocument) {
  TempDir dir;
  const auto path = dir.Path() / ".credentials.json";
  const std::string old_text = CredentialsJson("old-access", "old-refresh", 1);
  // Large enough that "half written" is a real partial document.
  nlohmann::ordered_json new_doc = nlohmann::ordered_json::parse(CredentialsJson("new", "new", 2));
  new_doc["padding"] = std::string(64 * 1024, 'x');
  testing::WriteText(path, old_text);

  const auto kill_at = GetParam();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    CredentialsFile file(path, [kill_at](CredentialsFile::WriteStep step) {
      if (step == kill_at) {
        ::raise(SIGKILL);
      }
      return 0;
    });
    (void)file.Write(new_doc);
    ::_exit(3);  // Not reached when killed.
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  const std::string text = testing::ReadText(path);
  auto parsed = ParseCredentials(text);
  ASSERT_TRUE(parsed.has_value()) << "torn file after kill at step " << static_cast<int>(kill_at);
  const bool renamed = kill_at == CredentialsFile::WriteStep::kRenamed ||
                       kill_at == CredentialsFile::WriteStep::kDone;
  if (renamed) {
    EXPECT_EQ(parsed->document, new_doc);
  } else {
    EXPECT_EQ(text, old_text);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStep, CrashDuringWrite,
                         ::testing::Values(CredentialsFile::WriteStep::kCreateTemp,
                                           CredentialsFile::WriteStep::kHalfWritten,
                                           CredentialsFile::WriteStep::kWritten,
                                           CredentialsFile::WriteStep::kSynced,
                                           CredentialsFile::WriteStep::kRenamed,
                                           CredentialsFile::WriteStep::kDone));

// The labels are the `code` of the 503 a client gets while the file is unusable, and appear in
// logs: renaming one breaks clients and alerts that match on it.
TEST(FileProblem, LabelsAndClientErrorsAreStable) {
  EXPECT_EQ(Label(FileProblem::kAbsent), "credentials_absent");
  EXPECT_EQ(Label(FileProblem::kCorrupt), "credentials_corrupt");
  EXPECT_EQ(Label(FileProblem::kUnreadable), "credentials_unreadable");
  EXPECT_EQ(Label(FileProblem::kNotWritable), "credentials_not_writable");
  EXPECT_EQ(Label(FileProblem::kWriteFailed), "credentials_write_failed");
  const Error read = ToError(FileError(FileProblem::kUnreadable, "cannot read x"));
  EXPECT_EQ(read.kind, ErrorKind::kServiceUnavailable);
  EXPECT_EQ(read.code, "credentials_unreadable");
  EXPECT_EQ(read.message, "cannot read x");
  EXPECT_EQ(ToError(FileError(FileProblem::kWriteFailed, "disk full")).kind, ErrorKind::kInternal);
}

}  // namespace
}  // namespace claudegate::credentials
