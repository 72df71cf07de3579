// Regressions found by fuzz/fuzz_credentials_file.cpp: an out-of-range `expiresAt` made
// ParseOAuth cast a double beyond int64 (undefined behaviour) and ExpiresAt() overflow when it
// converts milliseconds to system_clock's nanoseconds, so a token valid for "ever" looked expired
// (or anything else). Values are now clamped to a representable, far-future time.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "claudegate/credentials/credentials_file.hpp"

namespace claudegate::credentials {
namespace {

std::string WithExpiry(const std::string& expires_at) {
  return R"({"claudeAiOauth":{"accessToken":"a","refreshToken":"r","expiresAt":)" + expires_at +
         "}}";
}

TEST(ParseCredentialsRegression, ClampsAHugeExpiryToTheFarFuture) {
  const auto far_future = std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 50);
  for (const std::string value : {"1e30", "9223372036854775807", "18446744073709551615", "9.3e15",
                                  "1.7976931348623157e308"}) {
    const auto doc = ParseCredentials(WithExpiry(value));
    ASSERT_TRUE(doc.has_value()) << value;
    EXPECT_GT(doc->oauth.ExpiresAt(), far_future) << value;
  }
}

TEST(ParseCredentialsRegression, ClampsANegativeExpiryToThePast) {
  for (const std::string value : {"-1e30", "-9223372036854775808", "-1"}) {
    const auto doc = ParseCredentials(WithExpiry(value));
    ASSERT_TRUE(doc.has_value()) << value;
    EXPECT_LE(doc->oauth.ExpiresAt(), std::chrono::system_clock::time_point{}) << value;
    EXPECT_LT(doc->oauth.ExpiresAt(), std::chrono::system_clock::now()) << value;
  }
}

}  // namespace
}  // namespace claudegate::credentials
