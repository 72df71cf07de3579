#include "claudegate/anthropic/surrogate_repair.hpp"

#include <gtest/gtest.h>

namespace claudegate::anthropic {
namespace {

TEST(RepairSurrogates, HoldsTrailingHighSurrogateAndGluesItToTheNextLowHalf) {
  std::string pending;
  EXPECT_EQ(RepairSurrogates(R"({"t":"a\ud83d"})", pending), R"({"t":"a"})");
  EXPECT_EQ(pending, R"(\ud83d)");
  EXPECT_EQ(RepairSurrogates(R"({"t":"\ude00b"})", pending), R"({"t":"\ud83d\ude00b"})");
  EXPECT_TRUE(pending.empty());
}

TEST(RepairSurrogates, ReplacesLoneSurrogatesAndKeepsEverythingElse) {
  std::string pending;
  EXPECT_EQ(RepairSurrogates(R"({"t":"x\udc00y\ud800z\\u\"\n\ud83d\ude00"})", pending),
            R"({"t":"x\ufffdy\ufffdz\\u\"\n\ud83d\ude00"})");
  EXPECT_TRUE(pending.empty());
}

}  // namespace
}  // namespace claudegate::anthropic
