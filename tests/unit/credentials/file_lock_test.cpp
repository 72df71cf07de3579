#include "claudegate/credentials/file_lock.hpp"

#include <gtest/gtest.h>

#include "credentials_test_support.hpp"

namespace claudegate::credentials {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;

TEST(DirLock, CreatesTheLockDirectoryAndRemovesItOnRelease) {
  TempDir dir;
  const auto path = RefreshLockPath(dir.Path());
  EXPECT_EQ(path.filename(), ".oauth_refresh.lock");
  {
    auto lock = DirLock::TryAcquire(path, 10s);
    ASSERT_TRUE(lock.has_value());
    EXPECT_TRUE(std::filesystem::is_directory(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(DirLock, RespectsAFreshLockHeldByAnotherProcess) {
  TempDir dir;
  const auto path = StorageWriteLockPath(dir.Path());
  ASSERT_TRUE(std::filesystem::create_directory(path));  // Another process's fresh lock.
  auto lock = DirLock::TryAcquire(path, 15s);
  ASSERT_FALSE(lock.has_value());
  EXPECT_EQ(lock.error().failure, LockFailure::kBusy);
  EXPECT_TRUE(std::filesystem::is_directory(path));  // Not removed by the loser.
}

TEST(DirLock, TakesOverAStaleLock) {
  TempDir dir;
  const auto path = RefreshLockPath(dir.Path());
  ASSERT_TRUE(std::filesystem::create_directory(path));
  testing::Age(path, 11s);  // Older than the CLI's 10 s threshold.
  auto lock = DirLock::TryAcquire(path, kRefreshLockOptions.stale);
  ASSERT_TRUE(lock.has_value());
  EXPECT_TRUE(lock->Held());
}

TEST(DirLock, TouchRefreshesTheMtimeSoTheLockStaysFresh) {
  TempDir dir;
  const auto path = RefreshLockPath(dir.Path());
  auto lock = DirLock::TryAcquire(path, 10s);
  ASSERT_TRUE(lock.has_value());
  testing::Age(path, 30s);
  EXPECT_TRUE(lock->Touch());
  EXPECT_FALSE(DirLock::TryAcquire(path, 10s).has_value());
}

TEST(DirLock, MissingParentIsDeniedNotBusy) {
  TempDir dir;
  auto lock = DirLock::TryAcquire(dir.Path() / "missing" / ".oauth_refresh.lock", 10s);
  ASSERT_FALSE(lock.has_value());
  EXPECT_EQ(lock.error().failure, LockFailure::kDenied);
}

TEST(DirLock, LegacyLockSitsBesideTheResolvedConfigDir) {
  TempDir dir;
  const auto config = dir.Path() / "claude";
  std::filesystem::create_directory(config);
  std::filesystem::create_directory_symlink(config, dir.Path() / "link");
  const auto real = std::filesystem::canonical(dir.Path());
  EXPECT_EQ(LegacyLockPath(dir.Path() / "link"), real / "claude.lock");
  EXPECT_EQ(LegacyLockPath(config / ""), real / "claude.lock");
}

TEST(AcquireDirLock, GivesUpAfterBoundedRetriesWhileHeld) {
  TempDir dir;
  const auto path = RefreshLockPath(dir.Path());
  ASSERT_TRUE(std::filesystem::create_directory(path));
  net::io_context ioc;
  const LockOptions options{10s, 3, 1ms, 2ms};
  auto lock = testing::RunToCompletion(ioc, AcquireDirLock(path, options));
  ASSERT_FALSE(lock.has_value());
  EXPECT_EQ(lock.error().failure, LockFailure::kBusy);
}

TEST(AcquireDirLock, SucceedsWhenFree) {
  TempDir dir;
  net::io_context ioc;
  auto lock = testing::RunToCompletion(
      ioc, AcquireDirLock(RefreshLockPath(dir.Path()), kRefreshLockOptions));
  ASSERT_TRUE(lock.has_value());
  EXPECT_TRUE(lock->Held());
}

// The labels appear in logs and in /health's refresh errors: renaming one breaks alerting on it.
TEST(LockFailure, LabelsAreStable) {
  EXPECT_EQ(Label(LockFailure::kBusy), "lock_busy");
  EXPECT_EQ(Label(LockFailure::kDenied), "lock_denied");
  EXPECT_EQ(Label(LockFailure::kFailed), "lock_failed");
}

}  // namespace
}  // namespace claudegate::credentials
