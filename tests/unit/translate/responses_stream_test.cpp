#include "claudegate/translate/stream/responses_stream.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/message_accumulator.hpp"
#include "claudegate/translate/response/responses_output.hpp"
#include "claudegate/translate/stream/responses_replay.hpp"

#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ExpectGolden;
using claudegate::testing::FilesWithSuffix;
using claudegate::testing::ReadFile;

ResponseMeta Meta() {
  ResponseMeta meta;
  meta.model = "sonnet";
  meta.created_at = 1700000000;
  meta.echo = {{"tool_choice", "auto"}, {"tools", nlohmann::json::array()}};
  return meta;
}

// Runs `wire` through Decoder + ResponsesStreamTranslator, cut into chunks at `cuts`.
std::string Translate(std::string_view wire, const std::vector<std::size_t>& cuts,
                      nlohmann::json* final_response = nullptr) {
  sse::Decoder decoder;
  ResponsesStreamTranslator translator(Meta());
  std::string out;
  std::size_t begin = 0;
  auto feed = [&](std::size_t end) {
    auto fed = decoder.Feed(wire.substr(begin, end - begin),
                            [&](const sse::Event& event) { translator.OnEvent(event, out); });
    EXPECT_TRUE(fed.has_value());
    begin = end;
  };
  for (const std::size_t cut : cuts) {
    feed(cut);
  }
  feed(wire.size());
  translator.OnUpstreamEnd(out);
  EXPECT_TRUE(translator.done());
  if (final_response != nullptr) {
    *final_response = translator.response();
  }
  return out;
}

// The non-streaming path: MessageAccumulator + ToResponse, or the error it gives.
nlohmann::json Accumulate(std::string_view wire) {
  sse::Decoder decoder;
  MessageAccumulator accumulator;
  EXPECT_TRUE(
      decoder.Feed(wire, [&](const sse::Event& event) { accumulator.OnEvent(event); }).has_value());
  auto message = accumulator.TakeMessage();
  if (!message) {
    return {
        {"accumulator_error",
         {{"status", ErrorStatus(message.error().kind)}, {"message", message.error().message}}}};
  }
  auto response = ToResponse(*message, Meta());
  EXPECT_TRUE(response.has_value());
  return *response;
}

struct Frame {
  std::string event;
  nlohmann::json data;
};

std::vector<Frame> Frames(const std::string& out) {
  std::vector<Frame> frames;
  sse::Decoder decoder;
  EXPECT_TRUE(decoder
                  .Feed(out,
                        [&](const sse::Event& event) {
                          frames.push_back({event.event, nlohmann::json::parse(event.data)});
                        })
                  .has_value());
  return frames;
}

class ResponsesTranscript : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Wire() const { return ReadFile(DataDir() / "sse" / (GetParam() + ".sse")); }
  std::filesystem::path Golden(std::string_view ext) const {
    return DataDir() / "translate" / "responses_api" / (GetParam() + std::string(ext));
  }
};

std::vector<std::string> TranscriptNames() {
  std::vector<std::string> names;
  for (const auto& path : FilesWithSuffix(DataDir() / "sse", ".sse")) {
    const std::string stem = path.stem().string();
    if (!stem.ends_with(".openai")) {  // Skip the chat goldens.
      names.push_back(stem);
    }
  }
  return names;
}

TEST_P(ResponsesTranscript, StreamMatchesGolden) {
  ExpectGolden(Golden(".responses.sse"), Translate(Wire(), {}));
}

TEST_P(ResponsesTranscript, NonStreamMatchesGolden) {
  ExpectGolden(Golden(".responses.json"), Accumulate(Wire()).dump(2) + "\n");
}

TEST_P(ResponsesTranscript, GivesSameOutputWhenSplitAtEveryByteOffset) {
  const std::string wire = Wire();
  const std::string whole = Translate(wire, {});
  for (std::size_t i = 1; i < wire.size(); ++i) {
    ASSERT_EQ(whole, Translate(wire, {i})) << "split at " << i;
  }
}

TEST_P(ResponsesTranscript, GivesSameOutputInOneByteChunks) {
  const std::string wire = Wire();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < wire.size(); ++i) {
    cuts.push_back(i);
  }
  EXPECT_EQ(Translate(wire, {}), Translate(wire, cuts));
}

TEST_P(ResponsesTranscript, FramesAreTypedAndSequenced) {
  const auto frames = Frames(Translate(Wire(), {}));
  ASSERT_GE(frames.size(), 3U);
  EXPECT_EQ(frames.front().event, "response.created");
  EXPECT_EQ(frames[1].event, "response.in_progress");
  const std::string last = frames.back().event;
  EXPECT_TRUE(last == "response.completed" || last == "response.incomplete" ||
              last == "response.failed")
      << last;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].data["type"], frames[i].event);
    EXPECT_EQ(frames[i].data["sequence_number"], i);
  }
}

// Function-call arguments: the stream forwards the upstream fragments verbatim, the accumulator
// re-serializes the parsed input; both encode the same JSON.
void NormalizeArguments(nlohmann::json& response) {
  for (auto& item : response["output"]) {
    if (item["type"] == "function_call") {
      auto parsed = nlohmann::json::parse(item["arguments"].get<std::string>(), nullptr, false);
      if (!parsed.is_discarded()) {
        item["arguments"] = parsed;
      }
    }
  }
}

// Stream and non-stream clients get the same Response for the same upstream answer.
TEST_P(ResponsesTranscript, FinalSnapshotEqualsNonStreamResponse) {
  if (GetParam() == "surrogate_split") {
    // MessageAccumulator (shared with the chat route) repairs split surrogate pairs like the
    // stream path, but drops a high half still pending when the stream ends, where the stream
    // path emits U+FFFD for it: the two differ by that last replacement character.
    GTEST_SKIP() << "known MessageAccumulator difference: trailing lone high surrogate";
  }
  nlohmann::json streamed;
  Translate(Wire(), {}, &streamed);
  nlohmann::json accumulated = Accumulate(Wire());
  NormalizeArguments(streamed);
  NormalizeArguments(accumulated);
  if (accumulated.contains("accumulator_error")) {
    EXPECT_EQ(streamed["status"], "failed");
    return;
  }
  EXPECT_EQ(streamed, accumulated);
}

// Consecutive deltas of one part merged into one, sequence numbers dropped: what a client that
// assembles the stream sees, whatever the pieces were.
std::vector<nlohmann::json> Story(const std::vector<Frame>& frames) {
  std::vector<nlohmann::json> story;
  for (const auto& frame : frames) {
    nlohmann::json data = frame.data;
    data.erase("sequence_number");
    if (frame.event.ends_with(".delta") && !story.empty() && story.back()["type"] == frame.event &&
        story.back().value("item_id", "") == data.value("item_id", "") &&
        story.back().value("content_index", -1) == data.value("content_index", -1) &&
        story.back().value("summary_index", -1) == data.value("summary_index", -1)) {
      story.back()["delta"] =
          story.back()["delta"].get<std::string>() + data["delta"].get<std::string>();
      continue;
    }
    story.push_back(std::move(data));
  }
  return story;
}

// GET /v1/responses/{id}?stream=true replays the stored Response: the same events as the live
// stream, deltas whole.
TEST_P(ResponsesTranscript, ReplayOfTheFinalResponseTellsTheSameStory) {
  nlohmann::json streamed;
  const auto live = Frames(Translate(Wire(), {}, &streamed));
  if (streamed["status"] == "failed") {
    GTEST_SKIP() << "a failed response is not stored";
  }
  const auto replayed = Frames(ReplayResponseEvents(streamed));
  for (std::size_t i = 0; i < replayed.size(); ++i) {
    EXPECT_EQ(replayed[i].data["sequence_number"], i);
  }
  const auto expected = Story(live);
  const auto actual = Story(replayed);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i], expected[i]) << "event " << i;
  }
  // Resuming after a sequence number leaves out what came before.
  const auto resumed = Frames(ReplayResponseEvents(streamed, 1));
  ASSERT_EQ(resumed.size(), replayed.size() - 2);
  EXPECT_EQ(resumed.front().data["sequence_number"], 2);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ResponsesTranscript, ::testing::ValuesIn(TranscriptNames()),
                         [](const auto& param_info) { return param_info.param; });

sse::Event Ev(std::string data) {
  sse::Event event;
  event.data = std::move(data);
  return event;
}

TEST(ResponsesStreamTranslator, FailsWithErrorThenResponseFailedOnUpstreamError) {
  ResponsesStreamTranslator translator(Meta());
  std::string out;
  translator.OnEvent(
      Ev(R"({"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3}}})"), out);
  translator.OnEvent(
      Ev(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"), out);
  ASSERT_TRUE(translator.done());
  ASSERT_TRUE(translator.error().has_value());
  const auto frames = Frames(out);
  ASSERT_EQ(frames.size(), 4U);
  EXPECT_EQ(frames[2].event, "error");
  EXPECT_EQ(frames[2].data["message"], "Overloaded");
  EXPECT_EQ(frames[3].event, "response.failed");
  EXPECT_EQ(frames[3].data["response"]["status"], "failed");
  EXPECT_EQ(frames[3].data["response"]["error"]["message"], "Overloaded");
  EXPECT_EQ(frames[3].data["response"]["id"], "resp_1");
}

TEST(ResponsesStreamTranslator, AbortFailsOnceAndIgnoresLaterEvents) {
  ResponsesStreamTranslator translator(Meta());
  std::string out;
  translator.Abort("timeout", "went silent", out);
  const std::size_t size = out.size();
  translator.OnEvent(Ev(R"({"type":"message_stop"})"), out);
  translator.OnUpstreamEnd(out);
  EXPECT_EQ(out.size(), size);
  EXPECT_EQ(Frames(out).back().data["response"]["error"]["code"], "timeout");
}

TEST(ResponsesStreamTranslator, ToolUseWithoutArgumentsGetsEmptyObject) {
  ResponsesStreamTranslator translator(Meta());
  std::string out;
  translator.OnEvent(Ev(R"({"type":"message_start","message":{"id":"msg_1"}})"), out);
  translator.OnEvent(Ev(R"({"type":"content_block_start","index":0,"content_block":)"
                        R"({"type":"tool_use","id":"toolu_1","name":"f","input":{}}})"),
                     out);
  translator.OnEvent(Ev(R"({"type":"content_block_stop","index":0})"), out);
  translator.OnEvent(Ev(R"({"type":"message_delta","delta":{"stop_reason":"tool_use"}})"), out);
  translator.OnEvent(Ev(R"({"type":"message_stop"})"), out);
  const auto& output = translator.response()["output"];
  ASSERT_EQ(output.size(), 1U);
  EXPECT_EQ(output[0]["type"], "function_call");
  EXPECT_EQ(output[0]["call_id"], "toolu_1");
  EXPECT_EQ(output[0]["id"], "fc_toolu_1");
  EXPECT_EQ(output[0]["arguments"], "{}");
  EXPECT_EQ(translator.response()["status"], "completed");
}

TEST(ToResponse, MapsUsageAndCachedTokens) {
  const auto message = nlohmann::json::parse(R"({
    "id": "msg_9", "stop_reason": "end_turn", "content": [{"type": "text", "text": "Hi"}],
    "usage": {"input_tokens": 12, "cache_read_input_tokens": 30,
              "cache_creation_input_tokens": 4, "output_tokens": 7,
              "output_tokens_details": {"thinking_tokens": 5}}})");
  const auto response = ToResponse(message, Meta());
  ASSERT_TRUE(response.has_value());
  const auto& usage = (*response)["usage"];
  EXPECT_EQ(usage["input_tokens"], 46);
  EXPECT_EQ(usage["input_tokens_details"]["cached_tokens"], 30);
  EXPECT_EQ(usage["output_tokens"], 7);
  EXPECT_EQ(usage["output_tokens_details"]["reasoning_tokens"], 5);
  EXPECT_EQ(usage["total_tokens"], 53);
  EXPECT_EQ((*response)["id"], "resp_9");
  EXPECT_EQ((*response)["object"], "response");
  EXPECT_EQ((*response)["output"][0]["content"][0]["text"], "Hi");
  EXPECT_EQ((*response)["store"], false);
}

// The route names each Response itself (ResponseMeta::id_base): the Response and its output items
// take that base, stream and non-stream alike, and Anthropic's message id names nothing.
TEST(ResponseIdBase, TheRoutesBaseNamesTheResponseAndItsItemsInBothPaths) {
  ResponseMeta meta = Meta();
  meta.id_base = "0190aabbccdd112233445566";
  const auto message = nlohmann::json::parse(R"({
    "id": "msg_01Random", "stop_reason": "end_turn",
    "content": [{"type": "thinking", "thinking": "t", "signature": "s"},
                {"type": "text", "text": "Hi"}],
    "usage": {"input_tokens": 1, "output_tokens": 1}})");
  const auto response = ToResponse(message, meta);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ((*response)["id"], "resp_0190aabbccdd112233445566");
  EXPECT_EQ((*response)["output"][0]["id"], "rs_0190aabbccdd112233445566_0");
  EXPECT_EQ((*response)["output"][1]["id"], "msg_0190aabbccdd112233445566_1");

  ResponsesStreamTranslator translator(meta);
  std::string out;
  sse::Decoder decoder;
  const std::string wire =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
      "\"msg_01Random\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
      "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  ASSERT_TRUE(decoder.Feed(wire, [&](const sse::Event& event) { translator.OnEvent(event, out); }));
  translator.OnUpstreamEnd(out);
  ASSERT_TRUE(translator.done());
  EXPECT_EQ(translator.response()["id"], "resp_0190aabbccdd112233445566");
  EXPECT_EQ(translator.response()["output"][0]["id"], "msg_0190aabbccdd112233445566_0");
  EXPECT_EQ(out.find("01Random"), std::string::npos) << out;
}

TEST(ToResponse, RejectsMessageWithoutContent) {
  EXPECT_FALSE(ToResponse(nlohmann::json::object(), Meta()).has_value());
}

}  // namespace
}  // namespace claudegate::translate
