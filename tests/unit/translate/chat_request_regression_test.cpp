// Regression found while fuzzing the request translators: nlohmann parses and destroys JSON
// iteratively, but copying and dumping recurse, so a ~200 KB chat request with tool parameters
// nested 100 000 levels deep overflowed the stack inside ToAnthropic and killed the whole gateway
// (every stream in flight). Deeply nested requests are now refused with a 400 before any copy.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/translate/request/chat_request.hpp"
#include "claudegate/translate/request/responses_request.hpp"

namespace claudegate::translate {
namespace {

constexpr int kDepth = 100000;

std::string Nested() { return std::string(kDepth, '[') + std::string(kDepth, ']'); }

const config::ModelCatalog& Catalog() {
  static const config::ModelCatalog kCatalog(config::ModelCatalog::DefaultAliases());
  return kCatalog;
}

TEST(ToAnthropicRegression, RefusesDeeplyNestedToolParametersInsteadOfOverflowingTheStack) {
  const auto request = nlohmann::json::parse(
      R"({"model":"sonnet","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",)"
      R"("function":{"name":"f","parameters":{"type":"object","properties":{"a":)" +
      Nested() + "}}}}]}");
  const auto result = ToAnthropic(request, TranslateOptions{&Catalog()});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidRequest);
}

TEST(ToAnthropicRegression, StillAcceptsARealisticallyNestedSchema) {
  std::string schema = R"({"type":"string"})";
  for (int i = 0; i < 20; ++i) {
    schema = R"({"type":"object","properties":{"p":)" + schema + "}}";
  }
  const auto request = nlohmann::json::parse(
      R"({"model":"sonnet","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function",)"
      R"("function":{"name":"f","parameters":)" +
      schema + "}}]}");
  const auto result = ToAnthropic(request, TranslateOptions{&Catalog()});
  EXPECT_TRUE(result.has_value()) << result.error().message;
}

TEST(ResponsesToAnthropicRegression, RefusesDeeplyNestedInputInsteadOfOverflowingTheStack) {
  const auto request = nlohmann::json::parse(
      R"({"model":"sonnet","input":"x","tools":[{"type":"function","name":"f","parameters":)"
      R"({"type":"object","properties":{"a":)" +
      Nested() + "}}}]}");
  const auto result = ResponsesToAnthropic(request, TranslateOptions{&Catalog()});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidRequest);
}

}  // namespace
}  // namespace claudegate::translate
