#include "claudegate/middleware/auth_throttle.hpp"

#include <gtest/gtest.h>

namespace claudegate::middleware {
namespace {

using std::chrono::milliseconds;
using Clock = AuthThrottle::Clock;

const AuthThrottleSettings kThreePerSecond{
    .max_failures = 3, .window = milliseconds(1000), .block = milliseconds(5000)};

TEST(AuthThrottle, BlocksAClientAtTheLimitAndOnlyThatClient) {
  AuthThrottle throttle(kThreePerSecond);
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(throttle.RecordFailure("attacker", t0));
  EXPECT_FALSE(throttle.RecordFailure("attacker", t0 + milliseconds(10)));
  EXPECT_FALSE(throttle.BlockedFor("attacker", t0 + milliseconds(20)));
  EXPECT_TRUE(throttle.RecordFailure("attacker", t0 + milliseconds(20)));

  const auto remaining = throttle.BlockedFor("attacker", t0 + milliseconds(1020));
  ASSERT_TRUE(remaining);
  EXPECT_EQ(*remaining, milliseconds(4000));
  EXPECT_FALSE(throttle.BlockedFor("owner", t0 + milliseconds(1020)));
  EXPECT_FALSE(throttle.BlockedFor("attacker", t0 + milliseconds(5020)));  // block over
}

TEST(AuthThrottle, ForgetsFailuresOutsideTheWindow) {
  AuthThrottle throttle(kThreePerSecond);
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(throttle.RecordFailure("typo", t0));
  EXPECT_FALSE(throttle.RecordFailure("typo", t0 + milliseconds(500)));
  // The window restarts at the next failure after it has passed.
  EXPECT_FALSE(throttle.RecordFailure("typo", t0 + milliseconds(1000)));
  EXPECT_FALSE(throttle.RecordFailure("typo", t0 + milliseconds(1100)));
  EXPECT_TRUE(throttle.RecordFailure("typo", t0 + milliseconds(1200)));
}

TEST(AuthThrottle, ARightKeyInBetweenDoesNotResetTheCount) {
  // An attacker sharing the owner's address: the owner's right keys (BlockedFor is all the auth
  // step calls for them) must not hand the attacker fresh guesses.
  AuthThrottle throttle(kThreePerSecond);
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(throttle.RecordFailure("shared", t0));
  EXPECT_FALSE(throttle.BlockedFor("shared", t0 + milliseconds(1)));  // the owner, served
  EXPECT_FALSE(throttle.RecordFailure("shared", t0 + milliseconds(2)));
  EXPECT_FALSE(throttle.BlockedFor("shared", t0 + milliseconds(3)));  // the owner again
  EXPECT_TRUE(throttle.RecordFailure("shared", t0 + milliseconds(4)));
  EXPECT_TRUE(throttle.BlockedFor("shared", t0 + milliseconds(5)));
}

TEST(AuthThrottle, ForgetsAClientWhoseWindowIsOver) {
  AuthThrottle throttle(kThreePerSecond);
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(throttle.RecordFailure("typo", t0));
  EXPECT_FALSE(throttle.BlockedFor("typo", t0 + milliseconds(500)));
  EXPECT_TRUE(throttle.HasRecords());
  EXPECT_FALSE(throttle.BlockedFor("typo", t0 + milliseconds(1000)));
  EXPECT_EQ(throttle.tracked_clients(), 0U);
  EXPECT_FALSE(throttle.HasRecords());  // the owner's requests skip the lock again
}

TEST(AuthThrottle, CountsAfreshAfterABlock) {
  AuthThrottle throttle(kThreePerSecond);
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    throttle.RecordFailure("attacker", t0);
  }
  const auto after = t0 + milliseconds(5000);
  EXPECT_FALSE(throttle.BlockedFor("attacker", after));
  EXPECT_FALSE(throttle.RecordFailure("attacker", after));
  EXPECT_FALSE(throttle.RecordFailure("attacker", after));
  EXPECT_TRUE(throttle.RecordFailure("attacker", after));
}

TEST(AuthThrottle, ZeroFailuresTurnsItOff) {
  AuthThrottle throttle({.max_failures = 0});
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(throttle.RecordFailure("x", t0));
  }
  EXPECT_FALSE(throttle.BlockedFor("x", t0));
  EXPECT_EQ(throttle.tracked_clients(), 0U);
}

TEST(AuthThrottle, StaysBoundedAndKeepsBlocksWhenAddressesRotate) {
  AuthThrottle throttle(kThreePerSecond);
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    throttle.RecordFailure("blocked-attacker", t0);
  }
  // One failure each from far more addresses than the table holds.
  for (std::size_t i = 0; i < AuthThrottle::kMaxTrackedClients + 100; ++i) {
    throttle.RecordFailure("rotating-" + std::to_string(i), t0 + milliseconds(1));
  }
  EXPECT_LE(throttle.tracked_clients(), AuthThrottle::kMaxTrackedClients);
  EXPECT_TRUE(throttle.BlockedFor("blocked-attacker", t0 + milliseconds(2)));
}

}  // namespace
}  // namespace claudegate::middleware
