#include "claudegate/server/body_budget.hpp"

#include <gtest/gtest.h>

namespace claudegate::server {
namespace {

TEST(BodyBudget, ReservationsGrowUpToTheLimitAndEndWithTheirOwner) {
  BodyBudget budget(100);
  {
    auto first = budget.Start();
    EXPECT_TRUE(first.Cover(60));
    EXPECT_TRUE(first.Cover(40));  // already covered
    auto second = budget.Start();
    EXPECT_FALSE(second.Cover(41));
    EXPECT_TRUE(second.Cover(40));
    EXPECT_EQ(budget.in_use(), 100U);
    EXPECT_FALSE(second.Cover(41));  // growth that does not fit leaves it unchanged
    EXPECT_EQ(budget.in_use(), 100U);
  }
  EXPECT_EQ(budget.in_use(), 0U);
}

TEST(BodyBudget, AMovedReservationIsReleasedOnce) {
  BodyBudget budget(10);
  {
    auto first = budget.Start();
    ASSERT_TRUE(first.Cover(10));
    auto moved = std::move(first);
    EXPECT_EQ(budget.in_use(), 10U);
  }
  EXPECT_EQ(budget.in_use(), 0U);
}

TEST(BodyBudget, NeverOverflowsOnHugeRequests) {
  BodyBudget budget(10);
  auto reservation = budget.Start();
  EXPECT_FALSE(reservation.Cover(static_cast<std::size_t>(-1)));
  EXPECT_EQ(budget.in_use(), 0U);
}

}  // namespace
}  // namespace claudegate::server
