#include "claudegate/server/connection_tracker.hpp"

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

TEST(ConnectionTracker, AClientAtItsShareEvictsOnlyItsOwnIdleConnections) {
  ConnectionTracker tracker(10, 2);
  CloseLog log;
  auto other = tracker.TryRegister(log.For(1), "10.0.0.9");  // oldest, idle
  auto first = tracker.TryRegister(log.For(2), "10.0.0.1");
  auto second = tracker.TryRegister(log.For(3), "10.0.0.1");
  ASSERT_TRUE(other && first && second);
  auto third = tracker.TryRegister(log.For(4), "10.0.0.1");
  ASSERT_TRUE(third);
  ASSERT_EQ(log.calls.size(), 1U);
  EXPECT_EQ(log.calls[0], std::make_pair(2, false));
}

TEST(ConnectionTracker, AClientWhoseConnectionsAreAllBusyIsRefusedAtItsShare) {
  ConnectionTracker tracker(10, 2);
  CloseLog log;
  auto first = tracker.TryRegister(log.For(1), "10.0.0.1");
  auto second = tracker.TryRegister(log.For(2), "10.0.0.1");
  ASSERT_TRUE(first && second);
  first->SetIdle(false);
  second->SetIdle(false);
  EXPECT_FALSE(tracker.TryRegister(log.For(3), "10.0.0.1"));
  EXPECT_TRUE(tracker.TryRegister(log.For(4), "10.0.0.2"));
  EXPECT_TRUE(tracker.TryRegister(log.For(5)));  // no client key: not limited per client
  EXPECT_TRUE(log.calls.empty());
  first.reset();
  EXPECT_TRUE(tracker.TryRegister(log.For(6), "10.0.0.1"));  // its count went down
}

TEST(ConnectionTracker, TheDefaultShareIsAQuarterButAtLeast256) {
  ConnectionTracker small(8);
  CloseLog log;
  std::vector<ConnectionTracker::Registration> held;
  for (int i = 0; i < 8; ++i) {
    auto registration = small.TryRegister(log.For(i), "10.0.0.1");
    ASSERT_TRUE(registration);
    registration->SetIdle(false);
    held.push_back(std::move(*registration));
  }
  EXPECT_TRUE(log.calls.empty());  // a small limit does not shrink one address's share below it
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
