// Regressions found by fuzz/fuzz_body_fields.cpp: the scan must read `model` and `stream` the way
// upstream's JSON parser does, or a client can slip a second, unchecked value past the alias check.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/anthropic/body_fields.hpp"

namespace claudegate::anthropic {
namespace {

TEST(ScanBodyFieldsRegression, ReadsAModelKeySpelledWithEscapes) {
  // "mod\u0065l" is the key "model" to any JSON parser; upstream would read "claude-unchecked".
  const std::string body = R"({"model":"sonnet","mod\u0065l":"claude-unchecked"})";
  const auto fields = ScanBodyFields(body);
  if (!fields) {
    SUCCEED() << "rejected: " << fields.error().message;
    return;
  }
  ASSERT_TRUE(fields->model.has_value());
  EXPECT_EQ(*fields->model, "claude-unchecked");
  const std::string out = ReplaceModel(body, *fields, "claude-sonnet-5-5");
  EXPECT_EQ(nlohmann::json::parse(out)["model"], "claude-sonnet-5-5") << out;
}

TEST(ScanBodyFieldsRegression, ReadsAStreamKeySpelledWithEscapes) {
  const std::string body = R"({"model":"sonnet","stre\u0061m":true})";
  const auto fields = ScanBodyFields(body);
  if (!fields) {
    SUCCEED() << "rejected: " << fields.error().message;
    return;
  }
  EXPECT_TRUE(fields->stream) << "upstream streams, so the relay must expect SSE";
}

TEST(ScanBodyFieldsRegression, RefusesADuplicateModelKey) {
  // Parsers disagree on duplicate keys (first wins vs last wins), so the model upstream uses is
  // not necessarily the one the gateway checked and replaced.
  const auto fields = ScanBodyFields(R"({"model":"not-a-claude-model","model":"sonnet"})");
  EXPECT_FALSE(fields.has_value());
}

}  // namespace
}  // namespace claudegate::anthropic
