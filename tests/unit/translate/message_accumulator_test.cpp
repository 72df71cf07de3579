#include "claudegate/translate/message_accumulator.hpp"

#include <gtest/gtest.h>

#include "claudegate/translate/chat_response.hpp"
#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ExpectGolden;
using claudegate::testing::FilesWithSuffix;
using claudegate::testing::ReadFile;

// The non-streaming reply for a streamed upstream transcript, or the error it maps to.
nlohmann::json NonStreamReply(const std::string& wire) {
  sse::Decoder decoder;
  MessageAccumulator accumulator;
  EXPECT_TRUE(decoder.Feed(wire, [&](const sse::Event& e) { accumulator.OnEvent(e); }).has_value());
  auto message = accumulator.TakeMessage();
  if (!message) {
    return {{"error",
             {{"status", ErrorStatus(message.error().kind)},
              {"message", message.error().message},
              {"upstream_status",
               accumulator.error() ? nlohmann::json(accumulator.error()->status) : nullptr}}}};
  }
  auto reply = ToOpenAi(*message, "sonnet", 1700000000);
  EXPECT_TRUE(reply.has_value());
  return reply->body;
}

TEST(MessageAccumulator, MatchesNonStreamGoldenForEveryTranscript) {
  for (const auto& path : FilesWithSuffix(DataDir() / "sse", ".sse")) {
    const std::string stem = path.stem().string();
    if (stem.ends_with(".openai")) {
      continue;
    }
    SCOPED_TRACE(stem);
    ExpectGolden(DataDir() / "sse" / (stem + ".openai.json"),
                 NonStreamReply(ReadFile(path)).dump(2) + "\n");
  }
}

TEST(MessageAccumulator, KeepsUnparseableToolArgumentsVerbatimWithLengthFinish) {
  const auto reply = NonStreamReply(ReadFile(DataDir() / "sse" / "max_tokens_tool.sse"));
  const auto& choice = reply["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "length");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["arguments"],
            R"({"path": "a.txt", "body": "lo)");
}

TEST(MessageAccumulator, TruncatedStreamIsA502) {
  const auto reply = NonStreamReply(ReadFile(DataDir() / "sse" / "truncated.sse"));
  EXPECT_EQ(reply["error"]["status"], 502);
}

TEST(MessageAccumulator, UpstreamErrorEventKeepsMappedStatus) {
  const auto reply = NonStreamReply(ReadFile(DataDir() / "sse" / "error_midstream.sse"));
  EXPECT_EQ(reply["error"]["upstream_status"], 503);
  EXPECT_EQ(reply["error"]["message"], "Overloaded");
}

TEST(MessageAccumulator, KeepsThinkingSignatureForRoundTrip) {
  const auto reply = NonStreamReply(ReadFile(DataDir() / "sse" / "thinking.sse"));
  const auto& message = reply["choices"][0]["message"];
  EXPECT_EQ(message["reasoning_content"], "Let me think… 27 × 453 = 12231.");
  EXPECT_EQ(message["thinking_blocks"][0]["signature"], "EqQBCgIYAhIM1gbcDa9GJwZA2b3h");
  EXPECT_EQ(message["thinking_blocks"][1]["type"], "redacted_thinking");
  EXPECT_EQ(message["content"], "27 × 453 = 12231");
}

}  // namespace
}  // namespace claudegate::translate
