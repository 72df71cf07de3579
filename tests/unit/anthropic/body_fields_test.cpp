#include "claudegate/anthropic/body_fields.hpp"

#include <gtest/gtest.h>

namespace claudegate::anthropic {
namespace {

struct ScanCase {
  std::string body;
  std::optional<std::string> model;
  bool stream;
};

TEST(ScanBodyFields, FindsTopLevelModelAndStreamOnly) {
  const std::vector<ScanCase> cases = {
      {R"({"model":"sonnet","max_tokens":5})", "sonnet", false},
      {R"({ "stream" : true , "model" : "opus" })", "opus", true},
      {R"({"messages":[{"model":"inner","stream":true}],"model":"haiku"})", "haiku", false},
      {R"({"metadata":{"model":"x"},"stream":false})", std::nullopt, false},
      {R"({"model":"claude-\u00e9","x":"}\"{"})", "claude-é", false},
      {R"({"model":42})", std::nullopt, false},
      {R"({"brand_new_field":{"a":[1,{"b":"]"}]},"model":"sonnet","stream":true})", "sonnet", true},
      {"{}", std::nullopt, false},
  };
  for (const auto& c : cases) {
    auto fields = ScanBodyFields(c.body);
    ASSERT_TRUE(fields) << c.body;
    EXPECT_EQ(fields->model, c.model) << c.body;
    EXPECT_EQ(fields->stream, c.stream) << c.body;
  }
}

TEST(ScanBodyFields, RejectsInvalidJsonAndNonObjects) {
  for (const std::string body : {"", "{", "[1,2]", "\"model\"", R"({"model":"x",})", "nul"}) {
    EXPECT_TRUE(ScanBodyFields(body).has_error()) << body;
  }
}

TEST(ReplaceModel, ChangesOnlyTheModelBytes) {
  const std::string body = "{ \"z\":1,\n  \"model\" : \"sonnet\" ,\"unknown_role\":\"?\" }";
  auto fields = ScanBodyFields(body).value();
  EXPECT_EQ(ReplaceModel(body, fields, "claude-sonnet-5-5"),
            "{ \"z\":1,\n  \"model\" : \"claude-sonnet-5-5\" ,\"unknown_role\":\"?\" }");
}

}  // namespace
}  // namespace claudegate::anthropic
