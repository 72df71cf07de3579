#include "claudegate/config/open_files.hpp"

#include <limits>

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace claudegate::config {
namespace {

TEST(FitConnectionsToOpenFiles, LeavesLimitsThatFitUnchanged) {
  // 2 × 4096 + 4096 + reserve fits a 1,048,576 limit.
  const auto budget = FitConnectionsToOpenFiles(4096, 4096, 1U << 20U, 72);
  EXPECT_FALSE(budget.clamped);
  EXPECT_EQ(budget.max_connections, 4096U);
  EXPECT_EQ(budget.max_idle_connections, 4096U);
}

TEST(FitConnectionsToOpenFiles, NeverKeepsMoreIdleUpstreamConnectionsThanClients) {
  const auto budget = FitConnectionsToOpenFiles(100, 4096, 1U << 20U, 72);
  EXPECT_FALSE(budget.clamped);
  EXPECT_EQ(budget.max_connections, 100U);
  EXPECT_EQ(budget.max_idle_connections, 100U);
}

TEST(FitConnectionsToOpenFiles, ClampsTheDefaultsToACommonSoftLimit) {
  // The review's case: soft limit 1,024, max_connections 4,096. 1,024 − 72 = 952 usable; the pool
  // gets a third (317), connections the rest halved (317): 2 × 317 + 317 = 951 ≤ 952.
  const auto budget = FitConnectionsToOpenFiles(4096, 4096, 1024, 72);
  EXPECT_TRUE(budget.clamped);
  EXPECT_EQ(budget.max_connections, 317U);
  EXPECT_EQ(budget.max_idle_connections, 317U);
  EXPECT_LE(2 * budget.max_connections + budget.max_idle_connections + 72, 1024U);
}

TEST(FitConnectionsToOpenFiles, ASmallPoolLeavesMoreRoomForConnections) {
  const auto budget = FitConnectionsToOpenFiles(4096, 32, 1024, 72);
  EXPECT_TRUE(budget.clamped);
  EXPECT_EQ(budget.max_idle_connections, 32U);
  EXPECT_EQ(budget.max_connections, (952U - 32U) / 2U);
}

TEST(FitConnectionsToOpenFiles, AlwaysAllowsOneConnection) {
  const auto budget = FitConnectionsToOpenFiles(4096, 4096, 50, 72);
  EXPECT_TRUE(budget.clamped);
  EXPECT_EQ(budget.max_connections, 1U);
  EXPECT_EQ(budget.max_idle_connections, 0U);
}

TEST(FitConnectionsToOpenFiles, HugeConfiguredValuesDoNotOverflow) {
  const auto huge = std::numeric_limits<std::size_t>::max();
  const auto budget = FitConnectionsToOpenFiles(huge, huge, 4096, 72);
  EXPECT_TRUE(budget.clamped);
  EXPECT_LE(2 * budget.max_connections + budget.max_idle_connections + 72, 4096U);
}

TEST(OpenFilesReserve, GrowsWithTheIoThreads) {
  EXPECT_LT(OpenFilesReserve(1), OpenFilesReserve(16));
}

TEST(RaiseOpenFilesLimit, RaisesTheSoftLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max == RLIM_INFINITY || saved.rlim_max < 64) {
    GTEST_SKIP() << "needs a finite hard open-files limit";
  }
  rlimit lowered = saved;
  lowered.rlim_cur = 32;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  const auto raised = RaiseOpenFilesLimit();
  rlimit now{};
  ::getrlimit(RLIMIT_NOFILE, &now);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(raised.before, 32U);
  EXPECT_EQ(raised.soft, saved.rlim_max);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
}

}  // namespace
}  // namespace claudegate::config
