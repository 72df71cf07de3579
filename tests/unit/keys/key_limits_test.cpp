// keys/key_limits: the arithmetic of a virtual key's limits on a fake clock (issue #19).
#include "claudegate/keys/key_limits.hpp"

#include <gtest/gtest.h>

namespace claudegate::keys {
namespace {

store::KeyRecord Key() {
  store::KeyRecord key;
  key.token = std::string(64, 'a');
  key.key_name = "sk-...abcd";
  key.alias = "ci-bot";
  key.created_at = 1000;
  return key;
}

TEST(MinuteWindow, CountsTheLastSixtySecondsOnly) {
  MinuteWindow window;
  window.Add(100, 3);
  window.Add(130, 2);
  EXPECT_EQ(window.Total(130), 5);
  EXPECT_EQ(window.Total(159), 5);
  EXPECT_EQ(window.Total(160), 2);  // the bucket of second 100 left the window
  EXPECT_EQ(window.Total(189), 2);
  EXPECT_EQ(window.Total(190), 0);
  window.Add(1000, 1);  // long after: everything older is gone
  EXPECT_EQ(window.Total(1000), 1);
}

TEST(MinuteWindow, TellsWhenTheTotalFallsBelowALimit) {
  MinuteWindow window;
  window.Add(100, 2);
  window.Add(110, 1);
  // At 120 the total is 3; below 3 once second 100 leaves (at 160), below 1 at 170.
  EXPECT_EQ(window.SecondsUntilBelow(3, 120), 40);
  EXPECT_EQ(window.SecondsUntilBelow(1, 120), 50);
  EXPECT_EQ(window.SecondsUntilBelow(4, 120), 1);
}

TEST(KeyLimits, RpmRefusesTheRequestOverTheLimitAndSaysWhenItResets) {
  auto key = Key();
  key.rpm_limit = 2;
  KeyUsage usage;
  EXPECT_FALSE(Admit(key, usage, 2000));
  EXPECT_FALSE(Admit(key, usage, 2010));
  const auto refused = Admit(key, usage, 2020);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(refused->details, "key_rpm_limit");
  EXPECT_EQ(refused->retry_after, 40);  // the request of second 2000 leaves at 2060
  EXPECT_NE(refused->error.message.find("rpm_limit 2"), std::string::npos);
  EXPECT_NE(refused->error.message.find("'ci-bot'"), std::string::npos);
  EXPECT_FALSE(Admit(key, usage, 2060));
}

TEST(KeyLimits, TpmCountsTheTokensOfFinishedRequests) {
  auto key = Key();
  key.tpm_limit = 1000;
  KeyUsage usage;
  ASSERT_FALSE(Admit(key, usage, 2000));
  Finish(key, usage, 1200, 0.0, 2001);
  const auto refused = Admit(key, usage, 2002);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->details, "key_tpm_limit");
  EXPECT_EQ(refused->retry_after, 59);
  EXPECT_FALSE(Admit(key, usage, 2061));
}

TEST(KeyLimits, ParallelCountsRequestsInFlightUntilTheyFinish) {
  auto key = Key();
  key.max_parallel_requests = 1;
  KeyUsage usage;
  ASSERT_FALSE(Admit(key, usage, 2000));
  const auto refused = Admit(key, usage, 2000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->details, "key_parallel_limit");
  Finish(key, usage, 10, 0.0, 2001);
  EXPECT_EQ(usage.in_flight, 0);
  EXPECT_FALSE(Admit(key, usage, 2001));
}

TEST(KeyLimits, BudgetWithoutADurationNeverResets) {
  auto key = Key();
  key.max_budget = 1.0;
  KeyUsage usage;
  ASSERT_FALSE(Admit(key, usage, 2000));
  Finish(key, usage, 10, 1.5, 2000);
  const auto refused = Admit(key, usage, 99999999);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->details, "key_budget");
  EXPECT_EQ(refused->error.code, "budget_exceeded");
  EXPECT_FALSE(refused->retry_after);
  EXPECT_NE(refused->error.message.find("never resets"), std::string::npos);
}

TEST(KeyLimits, BudgetResetsEveryDurationFromTheKeysCreation) {
  auto key = Key();  // created at 1000
  key.max_budget = 1.0;
  key.budget_duration = 3600;
  KeyUsage usage;
  ASSERT_FALSE(Admit(key, usage, 2000));
  Finish(key, usage, 10, 2.0, 2000);
  EXPECT_EQ(key.budget_reset_at, 4600);
  const auto refused = Admit(key, usage, 3000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->retry_after, 1600);
  // Three periods later the spend starts again from 0, and the next reset stays on the grid.
  EXPECT_FALSE(Admit(key, usage, 1000 + 3 * 3600 + 5));
  EXPECT_EQ(key.spend, 0.0);
  EXPECT_EQ(key.budget_reset_at, 1000 + 4 * 3600);
}

TEST(KeyLimits, StandingRefusesBlockedWith403AndExpiredWith401) {
  auto key = Key();
  EXPECT_FALSE(CheckStanding(key, 5000));
  key.expires_at = 5000;
  EXPECT_FALSE(CheckStanding(key, 4999));
  auto expired = CheckStanding(key, 5000);
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->error.kind, ErrorKind::kAuthentication);
  EXPECT_EQ(expired->details, "key_expired");
  key.blocked = true;
  auto blocked = CheckStanding(key, 0);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->error.kind, ErrorKind::kPermission);
  EXPECT_EQ(blocked->details, "key_blocked");
}

TEST(KeyLimits, ModelsMatchTheNameAskedForOrTheIdItResolvesTo) {
  auto key = Key();
  EXPECT_TRUE(AllowsModel(key, "opus", "claude-opus-5-5"));  // no list: every model
  key.models = {"sonnet", "claude-haiku-5-5"};
  EXPECT_TRUE(AllowsModel(key, "sonnet", "claude-sonnet-5-5"));
  EXPECT_TRUE(AllowsModel(key, "haiku", "claude-haiku-5-5"));
  EXPECT_FALSE(AllowsModel(key, "opus", "claude-opus-5-5"));
  EXPECT_FALSE(AllowsModel(key, "claude-sonnet-5-5", "claude-sonnet-5-5"));
  key.models = {"all-proxy-models"};
  EXPECT_TRUE(AllowsModel(key, "opus", "claude-opus-5-5"));
}

}  // namespace
}  // namespace claudegate::keys
