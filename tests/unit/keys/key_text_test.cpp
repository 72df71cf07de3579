// keys/key_text: the key, its token and name, and LiteLLM's durations.
#include "claudegate/keys/key_text.hpp"

#include <gtest/gtest.h>

namespace claudegate::keys {
namespace {

TEST(KeyText, AGeneratedKeyIsSkAnd32RandomBytesInHex) {
  const std::string first = GenerateKey();
  const std::string second = GenerateKey();
  EXPECT_EQ(first.size(), 67U);
  EXPECT_TRUE(first.starts_with("sk-"));
  EXPECT_TRUE(LooksLikeToken(first.substr(3)));  // 64 lower-case hex digits
  EXPECT_NE(first, second);
}

TEST(KeyText, TheTokenIsTheSha256OfTheKey) {
  // sha256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(TokenOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(LooksLikeToken(TokenOf("sk-anything")));
  EXPECT_FALSE(LooksLikeToken("sk-0123"));
  EXPECT_FALSE(LooksLikeToken(std::string(64, 'A')));
}

TEST(KeyText, TheNameShowsOnlyTheEnds) {
  EXPECT_EQ(KeyName("sk-0123456789abcdef"), "sk-...cdef");
  EXPECT_EQ(KeyName("sk-short"), "sk-...");
}

TEST(KeyText, DurationsAreLiteLlms) {
  const std::pair<const char*, std::optional<std::int64_t>> cases[] = {
      {"30s", 30},
      {"15m", 900},
      {"2h", 7200},
      {"30d", 2'592'000},
      {"1w", 604'800},
      {"1mo", 2'592'000},
      {"0d", std::nullopt},
      {"-1d", std::nullopt},
      {"d", std::nullopt},
      {"10", std::nullopt},
      {"10y", std::nullopt},
      {"", std::nullopt},
      {"99999999999d", std::nullopt},
      {"5 d", std::nullopt},
  };
  for (const auto& [text, seconds] : cases) {
    EXPECT_EQ(ParseDuration(text), seconds) << text;
  }
}

}  // namespace
}  // namespace claudegate::keys
