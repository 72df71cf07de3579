#include "claudegate/translate/response/message_accumulator.hpp"

#include <gtest/gtest.h>

#include "claudegate/translate/response/chat_response.hpp"

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

// An Anthropic event whose data is not JSON would lose content: an error, never a short answer.
// Unknown events with unparseable data are ignored (the SSE spec's tolerance).
TEST(MessageAccumulator, MalformedAnthropicEventsFailTheAnswerUnknownOnesAreIgnored) {
  const std::string start =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\","
      "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\","
      "\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
  const std::string end =
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  struct Case {
    std::string name;
    std::string middle;
    bool fails;
  };
  const std::vector<Case> cases = {
      {"truncated delta", "event: content_block_delta\ndata: {\"type\":\"content_block_delta\"\n\n",
       true},
      {"garbage delta", "event: content_block_delta\ndata: not json\n\n", true},
      {"garbage message_delta", "event: message_delta\ndata: {oops}\n\n", true},
      {"unknown event, not json", "event: future_thing\ndata: <<binary>>\n\n", false},
      {"comment and retry", ": keep-alive\nretry: 100\n\n", false},
  };
  for (const auto& c : cases) {
    const auto reply = NonStreamReply(start + c.middle + end);
    if (c.fails) {
      EXPECT_EQ(reply["error"]["status"], 502) << c.name;
      EXPECT_NE(reply["error"]["message"].get<std::string>().find("not valid JSON"),
                std::string::npos)
          << c.name;
    } else {
      EXPECT_FALSE(reply.contains("error")) << c.name << ": " << reply.dump();
    }
  }
}

TEST(MessageAccumulator, UpstreamErrorEventKeepsMappedStatus) {
  const auto reply = NonStreamReply(ReadFile(DataDir() / "sse" / "error_midstream.sse"));
  EXPECT_EQ(reply["error"]["upstream_status"], 503);
  EXPECT_EQ(reply["error"]["message"], "Overloaded");
}

// A hostile or broken upstream whose message_delta tries to replace the members the accumulator
// builds (content, usage) used to make the next block start throw nlohmann::type_error.
TEST(MessageAccumulator, MessageDeltaCannotReplaceTheContentItBuilds) {
  const std::string wire =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-5-5\",\"content\":[],"
      "\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"content\":5,"
      "\"usage\":\"x\",\"stop_reason\":null}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  nlohmann::json reply;
  ASSERT_NO_THROW(reply = NonStreamReply(wire));
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "hi") << reply.dump();
  EXPECT_EQ(reply["choices"][0]["finish_reason"], "stop");
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
