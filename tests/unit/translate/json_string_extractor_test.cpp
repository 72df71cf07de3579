// JsonStringExtractor: the custom tool's string streamed out of Claude's partial JSON.
#include "claudegate/translate/stream/json_string_extractor.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace claudegate::translate {
namespace {

using nlohmann::json;

struct ExtractCase {
  std::string name;
  std::vector<std::string> fragments;
  std::string want;  // Text yielded in total.
  bool failed;
  bool complete;
};

TEST(JsonStringExtractor, DecodesTheValueAcrossAnySplit) {
  const std::vector<ExtractCase> cases = {
      {"plain", {R"({"input":"abc"})"}, "abc", false, true},
      {"whitespace", {" {\n \"input\" : \"a b\" } "}, "a b", false, true},
      {"split everywhere", {"{", "\"in", "put\"", ":", "\"a", "b\"", "}"}, "ab", false, true},
      {"escapes", {R"({"input":"a\n\t\"\\\/\b\f\r"})"}, "a\n\t\"\\/\b\f\r", false, true},
      {"escape split", {R"({"input":"a\)", R"(nb"})"}, "a\nb", false, true},
      {"unicode split", {R"({"input":"caf\u00)", R"(e9"})"}, "caf\xC3\xA9", false, true},
      {"surrogate pair split",
       {R"({"input":"\ud83d)", R"(\ude00!"})"},
       "\xF0\x9F\x98\x80!",
       false,
       true},
      {"pair split inside the escape",
       {R"({"input":"\ud83d\u)", R"(de00"})"},
       "\xF0\x9F\x98\x80",
       false,
       true},
      {"lone high then text", {R"({"input":"\ud83dx"})"}, "\xEF\xBF\xBDx", false, true},
      {"lone low", {R"({"input":"\ude00"})"}, "\xEF\xBF\xBD", false, true},
      {"high then escape", {R"({"input":"\ud83d\n"})"}, "\xEF\xBF\xBD\n", false, true},
      {"raw utf8", {"{\"input\":\"\xC3\xA9\"}"}, "\xC3\xA9", false, true},
      {"unfinished", {R"({"input":"abc)"}, "abc", false, false},
      {"other key", {R"({"reason":"x","input":"y"})"}, "", true, false},
      {"extra key after", {R"({"input":"y","more":1})"}, "y", true, false},
      {"not a string", {R"({"input":42})"}, "", true, false},
      {"escaped key", {R"({"in\u0070ut":"y"})"}, "", true, false},
      {"bad escape", {R"({"input":"a\q"})"}, "a", true, false},
      {"bad unicode", {R"({"input":"\u12x4"})"}, "", true, false},
      {"array", {R"(["input"])"}, "", true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    JsonStringExtractor extractor("input");
    std::string got;
    for (const auto& fragment : c.fragments) {
      extractor.Feed(fragment, got);
    }
    EXPECT_EQ(got, c.want);
    EXPECT_EQ(extractor.failed(), c.failed);
    EXPECT_EQ(extractor.complete(), c.complete);
  }
}

TEST(JsonStringExtractor, OneByteFragmentsGiveTheSameText) {
  const std::string whole = R"({"input":"*** Begin Patch\n+\ud83d\ude00 caf\u00e9 \"q\"\n"})";
  JsonStringExtractor at_once("input");
  std::string expected;
  at_once.Feed(whole, expected);
  JsonStringExtractor bytewise("input");
  std::string got;
  for (char c : whole) {
    bytewise.Feed(std::string_view(&c, 1), got);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected, json::parse(whole)["input"].get<std::string>());
  EXPECT_TRUE(bytewise.complete());
}

}  // namespace
}  // namespace claudegate::translate
