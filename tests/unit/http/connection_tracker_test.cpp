#include "claudegate/http/connection_tracker.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace claudegate::server {
namespace {

// Records which connections were asked to close, and how.
struct CloseLog {
  std::vector<std::pair<int, bool>> calls;
  ConnectionTracker::Closer For(int connection) {
    return [this, connection](bool force) { calls.emplace_back(connection, force); };
  }
};

TEST(ConnectionTracker, AtTheLimitEvictsTheOldestIdleConnection) {
  ConnectionTracker tracker(2);
  CloseLog log;
  auto first = tracker.TryRegister(log.For(1));
  auto second = tracker.TryRegister(log.For(2));
  ASSERT_TRUE(first && second);
  auto third = tracker.TryRegister(log.For(3));
  ASSERT_TRUE(third);
  ASSERT_EQ(log.calls.size(), 1U);
  EXPECT_EQ(log.calls[0], std::make_pair(1, false));  // not forced: only if still idle
}

TEST(ConnectionTracker, NeverEvictsBusyConnectionsOrTheSameOneTwice) {
  ConnectionTracker tracker(2);
  CloseLog log;
  auto first = tracker.TryRegister(log.For(1));
  auto second = tracker.TryRegister(log.For(2));
  ASSERT_TRUE(first && second);
  second->SetIdle(false);
  auto third = tracker.TryRegister(log.For(3));  // evicts 1, the only idle one
  ASSERT_TRUE(third);
  third->SetIdle(false);
  EXPECT_FALSE(tracker.TryRegister(log.For(4)));  // 1 is on its way out, 2 and 3 are busy
  ASSERT_EQ(log.calls.size(), 1U);
  EXPECT_EQ(log.calls[0].first, 1);
}

TEST(ConnectionTracker, FreesTheSlotWhenARegistrationEnds) {
  ConnectionTracker tracker(1);
  CloseLog log;
  {
    auto only = tracker.TryRegister(log.For(1));
    ASSERT_TRUE(only);
    only->SetIdle(false);
    EXPECT_FALSE(tracker.TryRegister(log.For(2)));
  }
  EXPECT_EQ(tracker.active(), 0U);
  EXPECT_TRUE(tracker.TryRegister(log.For(3)));
  EXPECT_TRUE(log.calls.empty());
}

TEST(ConnectionTracker, RefusesEverythingWhileDraining) {
  ConnectionTracker tracker(4);
  bool drained = false;
  tracker.BeginShutdown([&] { drained = true; });
  EXPECT_TRUE(drained);
  CloseLog log;
  EXPECT_FALSE(tracker.TryRegister(log.For(1)));
}

}  // namespace
}  // namespace claudegate::server
