#include "claudegate/translate/request/json_depth.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace claudegate::translate {
namespace {

std::string Nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

// {"k":{"k":…1}} nested `depth` levels.
std::string NestedObjects(std::size_t depth) {
  std::string text;
  for (std::size_t i = 0; i < depth; ++i) {
    text += R"({"k":)";
  }
  return text + "1" + std::string(depth, '}');
}

struct DepthCase {
  std::string name;
  std::string text;
  std::size_t limit;
  bool exceeds;
};

TEST(JsonTextExceedsDepth, CountsBracketsOutsideStringsOnly) {
  const std::vector<DepthCase> cases = {
      {"empty", "", 1, false},
      {"scalar", "42", 0, false},
      {"string at limit 0", R"("x")", 0, false},
      {"one array at limit 1", "[]", 1, false},
      {"one array at limit 0", "[]", 0, true},
      {"object in array", R"([{"a":1}])", 2, false},
      {"object in array, limit 1", R"([{"a":1}])", 1, true},
      {"siblings do not add up", R"([[],[],{},[[]]])", 3, false},
      {"exactly the limit", Nested(128), 128, false},
      {"one past the limit", Nested(129), 128, true},
      {"objects count too", Nested(129, '{', '}'), 128, true},
      {"brackets inside a string", R"({"a":"[[[[[[{{{{"})", 1, false},
      {"escaped quote keeps the string open", R"(["\"[[[["])", 1, false},
      {"escaped backslash closes the string", R"(["\\",[[]]])", 2, true},
      {"escaped backslash, at the limit", R"(["\\",[[]]])", 3, false},
      {"unicode escape in a string", R"(["\u005b[[",[]])", 2, false},
      {"non-UTF-8 bytes are just bytes", "[\"\xff\xfe[[\",[\xc3]]", 2, false},
      {"closers before openers never go negative", "]]]]" + Nested(3), 2, true},
      {"unterminated string", R"([["[[[[)", 2, false},
      {"backslash at the very end", "[\"\\", 1, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(JsonTextExceedsDepth(c.text, c.limit), c.exceeds) << c.name;
  }
}

TEST(JsonTextExceedsDepth, AgreesWithTheParsedValueCheck) {
  // What the byte count lets through, the DOM check lets through too, and the other way round.
  const std::vector<std::string> texts = {
      Nested(127),
      Nested(128),
      Nested(129),
      R"({"a":[{"b":[1,2,{"c":"]]]"}]}]})",
      R"([["\"", {"k": "\\"}], [[[]]]])",
      NestedObjects(128),
      NestedObjects(129),
      "[" + NestedObjects(128) + "]",
  };
  for (const auto& text : texts) {
    const auto value = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(value.is_discarded()) << text.substr(0, 40);
    for (std::size_t limit : {1U, 2U, 4U, 127U, 128U, 129U}) {
      EXPECT_EQ(JsonTextExceedsDepth(text, limit), ExceedsJsonDepth(value, limit))
          << text.substr(0, 40) << " limit " << limit;
    }
  }
}

TEST(JsonTextExceedsDepth, RefusesA30MegabyteNestedBodyWithoutParsingIt) {
  // Issue 14, finding 10: nlohmann took 15.9 s and 962 MiB to build this. The byte count stops at
  // bracket 129; no DOM exists at any point (the function takes text and allocates nothing).
  const std::string body = Nested(15U * 1024U * 1024U);
  ASSERT_EQ(body.size(), 30U * 1024U * 1024U);
  EXPECT_TRUE(JsonTextExceedsDepth(body));
  // A deep body hidden behind a long string is found too (the scan reads every byte).
  const std::string padded =
      "[\"" + std::string(20U * 1024U * 1024U, 'x') + "\"," + Nested(200) + "]";
  EXPECT_TRUE(JsonTextExceedsDepth(padded));
}

}  // namespace
}  // namespace claudegate::translate
