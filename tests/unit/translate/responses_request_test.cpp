#include "claudegate/translate/request/responses_request.hpp"

#include <gtest/gtest.h>

#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ReadFile;
using claudegate::testing::UpdateGoldens;
using claudegate::testing::WriteFile;

const config::ModelCatalog& Catalog() {
  static const config::ModelCatalog kCatalog(config::ModelCatalog::DefaultAliases());
  return kCatalog;
}

nlohmann::json Describe(const ResponsesRequest& r) {
  return {{"body", r.anthropic.body},
          {"stream", r.anthropic.stream},
          {"requested_model", r.anthropic.requested_model},
          {"betas", r.anthropic.betas},
          {"warnings", r.anthropic.warnings},
          {"echo", r.echo}};
}

Result<ResponsesRequest> RunCase(const nlohmann::json& test_case) {
  TranslateOptions options;
  options.models = &Catalog();
  const nlohmann::json opts = test_case.value("options", nlohmann::json::object());
  options.drop_params = opts.value("drop_params", false);
  // `"prompt_caching": true` runs the case with the daemon's default (automatic caching).
  static const config::PromptCaching kAutoCaching;
  if (opts.value("prompt_caching", false)) {
    options.caching = &kAutoCaching;
  }
  return ResponsesToAnthropic(test_case["request"], options);
}

// Table-driven over tests/data/translate/responses_api/request_cases.json: each case is a
// Responses request and either the expected translation (`expected`) or the expected error
// (`error`, whose `param` must name the Responses field, not the chat one).
TEST(ResponsesToAnthropic, MatchesGoldenRequestCases) {
  const auto path = DataDir() / "translate" / "responses_api" / "request_cases.json";
  nlohmann::json cases = nlohmann::json::parse(ReadFile(path));
  for (auto& test_case : cases) {
    SCOPED_TRACE(test_case["name"].get<std::string>());
    const auto result = RunCase(test_case);
    if (test_case.contains("error")) {
      ASSERT_FALSE(result.has_value()) << Describe(*result).dump(2);
      const auto& want = test_case["error"];
      EXPECT_EQ(ErrorStatus(result.error().kind), want["status"].get<unsigned>())
          << result.error().message;
      EXPECT_EQ(result.error().param, want["param"].get<std::string>()) << result.error().message;
      EXPECT_EQ(result.error().code, want.value("code", "")) << result.error().message;
      EXPECT_FALSE(result.error().message.empty());
      continue;
    }
    ASSERT_TRUE(result.has_value()) << result.error().message << " param=" << result.error().param;
    if (UpdateGoldens()) {
      test_case["expected"] = Describe(*result);
    } else {
      EXPECT_EQ(Describe(*result), test_case["expected"]);
    }
  }
  if (UpdateGoldens()) {
    WriteFile(path, cases.dump(1) + "\n");
  }
}

TEST(ResponsesToChat, RewritesFunctionCallItemsAsChatToolCalls) {
  const auto request = nlohmann::json::parse(R"({
    "model": "sonnet",
    "input": [
      {"role": "user", "content": "Hi"},
      {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "call_1", "output": "done"}
    ]})");
  const auto chat = ResponsesToChat(request, TranslateOptions{&Catalog()});
  ASSERT_TRUE(chat.has_value()) << chat.error().message;
  const auto& messages = chat->chat["messages"];
  ASSERT_EQ(messages.size(), 3U);
  EXPECT_EQ(messages[1]["role"], "assistant");
  EXPECT_EQ(messages[1]["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ(messages[1]["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(messages[2]["role"], "tool");
  EXPECT_EQ(messages[2]["tool_call_id"], "call_1");
  EXPECT_EQ(messages[2]["content"], "done");
}

TEST(ResponsesToAnthropic, EchoesRequestFieldsWithOpenAiDefaults) {
  const auto result =
      ResponsesToAnthropic({{"model", "sonnet"}, {"input", "Hi"}}, TranslateOptions{&Catalog()});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->echo["tool_choice"], "auto");
  EXPECT_EQ(result->echo["tools"], nlohmann::json::array());
  EXPECT_EQ(result->echo["text"]["format"]["type"], "text");
  EXPECT_EQ(result->echo["parallel_tool_calls"], true);
  EXPECT_TRUE(result->echo["instructions"].is_null());
}

TEST(ResponsesToAnthropic, RejectsNonObjectBody) {
  const auto result = ResponsesToAnthropic(nlohmann::json::array(), TranslateOptions{&Catalog()});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(ErrorStatus(result.error().kind), 400U);
}

}  // namespace
}  // namespace claudegate::translate
