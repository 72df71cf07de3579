#include "claudegate/translate/response/chat_response.hpp"

#include <gtest/gtest.h>

#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ExpectGolden;
using claudegate::testing::FilesWithSuffix;
using claudegate::testing::ReadFile;

constexpr std::int64_t kCreated = 1700000000;

// Golden pairs: tests/data/translate/responses/<name>.anthropic.json → <name>.openai.json.
TEST(ToOpenAi, MatchesGoldenResponsePairs) {
  const auto dir = DataDir() / "translate" / "responses";
  const auto inputs = FilesWithSuffix(dir, ".anthropic.json");
  ASSERT_FALSE(inputs.empty());
  for (const auto& input : inputs) {
    const std::string name = input.filename().string();
    SCOPED_TRACE(name);
    const auto reply = ToOpenAi(nlohmann::json::parse(ReadFile(input)), "sonnet", kCreated);
    ASSERT_TRUE(reply.has_value());
    const std::string stem = name.substr(0, name.size() - std::string(".anthropic.json").size());
    ExpectGolden(dir / (stem + ".openai.json"), reply->body.dump(2) + "\n");
  }
}

struct FinishCase {
  const char* stop_reason;
  bool has_tool_calls;
  const char* finish_reason;
};

TEST(FinishReason, MapsEveryStopReason) {
  const FinishCase cases[] = {
      {"end_turn", false, "stop"},      {"stop_sequence", false, "stop"},
      {"max_tokens", false, "length"},  {"model_context_window_exceeded", false, "length"},
      {"tool_use", true, "tool_calls"}, {"tool_use", false, "stop"},
      {"pause_turn", false, "stop"},    {"refusal", false, "content_filter"},
      {"something_new", true, "stop"},  {"", false, "stop"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FinishReason(c.stop_reason, c.has_tool_calls), c.finish_reason) << c.stop_reason;
  }
}

TEST(ToOpenAi, KeepsReasoningOutOfContent) {
  const auto reply =
      ToOpenAi(nlohmann::json::parse(ReadFile(DataDir() / "translate" / "responses" /
                                              "only_thinking_max_tokens.anthropic.json")),
               "m", kCreated);
  ASSERT_TRUE(reply.has_value());
  const auto& message = reply->body["choices"][0]["message"];
  EXPECT_TRUE(message["content"].is_null());
  EXPECT_EQ(message["reasoning_content"], "Long thought that never ended");
  EXPECT_EQ(reply->body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(reply->stop_reason, "max_tokens");
}

TEST(ToOpenAi, CountsCacheTokensInPromptTokens) {
  const auto reply = ToOpenAi(nlohmann::json::parse(ReadFile(DataDir() / "translate" / "responses" /
                                                             "text_and_tools.anthropic.json")),
                              "m", kCreated);
  ASSERT_TRUE(reply.has_value());
  const auto& usage = reply->body["usage"];
  EXPECT_EQ(usage["prompt_tokens"], 115);
  EXPECT_EQ(usage["prompt_tokens_details"]["cached_tokens"], 100);
  EXPECT_EQ(usage["prompt_tokens_details"]["cache_write_tokens"], 5);
  EXPECT_EQ(usage["total_tokens"], 145);
  EXPECT_EQ(reply->usage.cache_read_input_tokens, 100);
}

TEST(ToOpenAi, RejectsMalformedUpstreamMessage) {
  for (const auto& bad : {nlohmann::json(nullptr), nlohmann::json::parse(R"({"content":"x"})"),
                          nlohmann::json::parse("[]")}) {
    const auto reply = ToOpenAi(bad, "m", kCreated);
    ASSERT_FALSE(reply.has_value());
    EXPECT_EQ(ErrorStatus(reply.error().kind), 502U);
  }
}

TEST(AppendJsonString, EscapesAndRepairsInvalidUtf8) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01\xC3\xA9\xFF", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\xEF\xBF\xBD\"");
  EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded());
}

TEST(AppendOpenAiUsage, MatchesDomSerialization) {
  Usage usage{10, 20, 30, 40, 5};
  std::string out;
  AppendOpenAiUsage(out, usage);
  EXPECT_EQ(out, OpenAiUsage(usage).dump());
  usage.thinking_tokens.reset();
  out.clear();
  AppendOpenAiUsage(out, usage);
  EXPECT_EQ(out, OpenAiUsage(usage).dump());
}

}  // namespace
}  // namespace claudegate::translate
