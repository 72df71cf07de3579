#include "claudegate/translate/request/chat_request.hpp"

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

nlohmann::json Describe(const AnthropicRequest& r) {
  return {{"body", r.body},
          {"stream", r.stream},
          {"include_usage", r.include_usage},
          {"requested_model", r.requested_model},
          {"betas", r.betas},
          {"warnings", r.warnings}};
}

Result<AnthropicRequest> RunCase(const nlohmann::json& test_case) {
  TranslateOptions options;
  options.models = &Catalog();
  const nlohmann::json opts = test_case.value("options", nlohmann::json::object());
  options.drop_params = opts.value("drop_params", false);
  // `"prompt_caching": true` runs the case with the daemon's default (automatic caching).
  static const config::PromptCaching kAutoCaching;
  if (opts.value("prompt_caching", false)) {
    options.caching = &kAutoCaching;
  }
  options.always_stream_upstream = opts.value("always_stream_upstream", true);
  const std::string version = opts.value("anthropic_version", "2023-06-01");
  options.anthropic_version = version;
  return ToAnthropic(test_case["request"], options);
}

// Table-driven over tests/data/translate/request_cases.json: each case is an OpenAI request
// and either the expected translation (`expected`) or the expected error (`error`).
TEST(ToAnthropic, MatchesGoldenRequestCases) {
  const auto path = DataDir() / "translate" / "request_cases.json";
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

TEST(ToAnthropic, MovesSystemToTopLevel) {
  const auto result = ToAnthropic(
      {{"model", "sonnet"},
       {"messages",
        {{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "U"}}}}},
      TranslateOptions{&Catalog()});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->body["system"], nlohmann::json::parse(R"([{"type":"text","text":"S"}])"));
  EXPECT_EQ(result->body["messages"].size(), 1U);
  EXPECT_EQ(result->body["model"], "claude-sonnet-5-5");
  EXPECT_EQ(result->requested_model, "sonnet");
  EXPECT_EQ(result->upstream_model, "claude-sonnet-5-5");
}

TEST(ToAnthropic, ResolvesOnlyClaudeIdsWithoutCatalog) {
  const nlohmann::json messages = {{{"role", "user"}, {"content", "U"}}};
  EXPECT_TRUE(ToAnthropic({{"model", "claude-opus-5-5"}, {"messages", messages}}, {}).has_value());
  const auto alias = ToAnthropic({{"model", "sonnet"}, {"messages", messages}}, {});
  ASSERT_FALSE(alias.has_value());
  EXPECT_EQ(alias.error().kind, ErrorKind::kModelNotFound);
}

TEST(ToAnthropic, UsesCallerSuppliedTraits) {
  ModelTraits traits;
  traits.accepts_sampling = true;
  TranslateOptions options{&Catalog()};
  options.traits = &traits;
  const auto result = ToAnthropic({{"model", "sonnet"},
                                   {"temperature", 0.3},
                                   {"messages", {{{"role", "user"}, {"content", "U"}}}}},
                                  options);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->body["temperature"], 0.3);
}

TEST(ToAnthropic, NeverThrowsOnWrongJsonTypes) {
  const std::vector<nlohmann::json> bodies = {
      nullptr,
      42,
      "str",
      nlohmann::json::object(),
      {{"model", 5}},
      {{"model", "sonnet"}, {"messages", {{{"role", "assistant"}, {"tool_calls", {{{"id", 1}}}}}}}},
      {{"model", "sonnet"}, {"messages", {{{"role", "user"}, {"content", {{{"type", 3}}}}}}}},
      {{"model", "sonnet"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}, {"tools", {1}}},
      {{"model", "sonnet"},
       {"messages", {{{"role", "user"}, {"content", "x"}}}},
       {"tool_choice", 3}},
      {{"model", "sonnet"},
       {"messages", {{{"role", "user"}, {"content", "x"}}}},
       {"response_format", "json"}},
      {{"model", "sonnet"},
       {"messages",
        {{{"role", "assistant"}, {"thinking_blocks", {1, "x"}}},
         {{"role", "user"}, {"content", "x"}}}}},
      {{"model", "sonnet"},
       {"messages", {{{"role", "user"}, {"content", "x"}}}},
       {"stream_options", 7},
       {"stream", true}},
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body.dump());
    EXPECT_NO_THROW({ (void)ToAnthropic(body, TranslateOptions{&Catalog()}); });
  }
}

TEST(HashUserId, IsLowerHexSha256) {
  EXPECT_EQ(HashUserId("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace claudegate::translate
