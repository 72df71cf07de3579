#include "claudegate/translate/stream/stream_translator.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/sse/decoder.hpp"

#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ExpectGolden;
using claudegate::testing::FilesWithSuffix;
using claudegate::testing::ReadFile;

constexpr std::int64_t kCreated = 1700000000;

StreamOptions Options(bool include_usage = true) {
  return StreamOptions{"sonnet", kCreated, include_usage, true};
}

// Runs `wire` through Decoder + StreamTranslator, cut into chunks at `cuts` (sorted offsets).
std::string Translate(std::string_view wire, const std::vector<std::size_t>& cuts,
                      bool include_usage = true) {
  sse::Decoder decoder;
  StreamTranslator translator(Options(include_usage));
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
  return out;
}

std::vector<std::string> DataLines(const std::string& out) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < out.size()) {
    const std::size_t end = out.find('\n', pos);
    std::string line = out.substr(pos, end - pos);
    if (line.starts_with("data: ")) {
      lines.push_back(line.substr(6));
    }
    pos = end + 1;
  }
  return lines;
}

class Transcript : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Wire() const { return ReadFile(DataDir() / "sse" / (GetParam() + ".sse")); }
};

std::vector<std::string> TranscriptNames() {
  std::vector<std::string> names;
  for (const auto& path : FilesWithSuffix(DataDir() / "sse", ".sse")) {
    const std::string stem = path.stem().string();
    if (!stem.ends_with(".openai")) {  // Skip the goldens themselves.
      names.push_back(stem);
    }
  }
  return names;
}

TEST_P(Transcript, MatchesGolden) {
  ExpectGolden(DataDir() / "sse" / (GetParam() + ".openai.sse"), Translate(Wire(), {}));
}

TEST_P(Transcript, GivesSameOutputWhenSplitAtEveryByteOffset) {
  const std::string wire = Wire();
  const std::string whole = Translate(wire, {});
  for (std::size_t i = 1; i < wire.size(); ++i) {
    ASSERT_EQ(whole, Translate(wire, {i})) << "split at " << i;
  }
}

TEST_P(Transcript, GivesSameOutputInOneByteChunks) {
  const std::string wire = Wire();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < wire.size(); ++i) {
    cuts.push_back(i);
  }
  EXPECT_EQ(Translate(wire, {}), Translate(wire, cuts));
}

TEST_P(Transcript, EmitsOnlyValidJsonFramesEndingWithDone) {
  const std::string out = Translate(Wire(), {});
  const auto lines = DataLines(out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "[DONE]");
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const auto parsed = nlohmann::json::parse(lines[i], nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << lines[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Sse, Transcript, ::testing::ValuesIn(TranscriptNames()),
                         [](const auto& param_info) { return param_info.param; });

nlohmann::json Frame(const std::string& out, std::size_t index) {
  return nlohmann::json::parse(DataLines(out).at(index));
}

TEST(StreamTranslator, FirstChunkCarriesRoleAndIds) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "text.sse"), {});
  const auto first = Frame(out, 0);
  EXPECT_EQ(first["id"], "chatcmpl-msg_01TextA");
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["created"], kCreated);
  EXPECT_EQ(first["model"], "sonnet");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
}

TEST(StreamTranslator, OmitsUsageFieldsWithoutIncludeUsage) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "text.sse"), {}, false);
  EXPECT_EQ(out.find("usage"), std::string::npos);
  const auto lines = DataLines(out);
  const auto finish = nlohmann::json::parse(lines[lines.size() - 2]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
}

TEST(StreamTranslator, UsageChunkHasEmptyChoicesAndCacheInclusivePromptTokens) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "tool_use.sse"), {});
  const auto lines = DataLines(out);
  const auto usage = nlohmann::json::parse(lines[lines.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 420);
  EXPECT_EQ(usage["usage"]["completion_tokens"], 42);
  EXPECT_EQ(usage["usage"]["total_tokens"], 462);
  EXPECT_EQ(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 300);
}

TEST(StreamTranslator, NumbersToolCallsDenselyFromZero) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "tool_use.sse"), {});
  std::vector<int> starts;
  for (const auto& line : DataLines(out)) {
    if (line == "[DONE]") {
      continue;
    }
    const auto chunk = nlohmann::json::parse(line);
    if (chunk["choices"].empty() || !chunk["choices"][0]["delta"].contains("tool_calls")) {
      continue;
    }
    const auto& call = chunk["choices"][0]["delta"]["tool_calls"][0];
    if (call.contains("id")) {
      starts.push_back(call["index"].get<int>());
      EXPECT_EQ(call["type"], "function");
      EXPECT_EQ(call["function"]["arguments"], "");
    }
  }
  EXPECT_EQ(starts, (std::vector<int>{0, 1}));
}

TEST(StreamTranslator, TracksUsageAndStopReasonForMetrics) {
  sse::Decoder decoder;
  StreamTranslator translator(Options());
  std::string out;
  ASSERT_TRUE(decoder
                  .Feed(ReadFile(DataDir() / "sse" / "thinking.sse"),
                        [&](const sse::Event& e) { translator.OnEvent(e, out); })
                  .has_value());
  EXPECT_TRUE(translator.done());
  EXPECT_FALSE(translator.error().has_value());
  EXPECT_EQ(translator.stop_reason(), "end_turn");
  EXPECT_EQ(translator.usage().input_tokens, 12);
  EXPECT_EQ(translator.usage().output_tokens, 80);
  EXPECT_EQ(translator.usage().thinking_tokens, 60);
  EXPECT_EQ(translator.message_id(), "msg_01Think");
}

TEST(StreamTranslator, MidStreamErrorEmitsErrorFrameThenDoneWithoutFinishReason) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "error_midstream.sse"), {});
  const auto lines = DataLines(out);
  ASSERT_GE(lines.size(), 2U);
  EXPECT_EQ(lines.back(), "[DONE]");
  const auto error = nlohmann::json::parse(lines[lines.size() - 2]);
  EXPECT_EQ(error["error"]["message"], "Overloaded");
  EXPECT_EQ(error["error"]["type"], "server_error");
  EXPECT_EQ(error["error"]["code"], "overloaded");
  EXPECT_TRUE(error["error"]["param"].is_null());
  EXPECT_EQ(out.find("\"finish_reason\":\"stop\""), std::string::npos);
}

TEST(StreamTranslator, ExposesEarlyErrorBeforeAnythingWasStarted) {
  StreamTranslator translator(Options());
  std::string out;
  translator.OnEvent(
      {"error", R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})",
       ""},
      out);
  EXPECT_FALSE(translator.started());
  ASSERT_TRUE(translator.error().has_value());
  EXPECT_EQ(translator.error()->status, 429U);
  EXPECT_TRUE(translator.done());
}

TEST(StreamTranslator, TruncatedStreamEndsWithServerErrorFrame) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "truncated.sse"), {});
  const auto lines = DataLines(out);
  const auto error = nlohmann::json::parse(lines[lines.size() - 2]);
  EXPECT_EQ(error["error"]["type"], "server_error");
  EXPECT_EQ(error["error"]["message"], "upstream stream ended unexpectedly");
  EXPECT_EQ(out.find("finish_reason\":\"stop"), std::string::npos);
}

TEST(StreamTranslator, AMalformedAnthropicEventEndsTheStreamWithAnErrorFrame) {
  StreamTranslator translator(Options());
  std::string out;
  translator.OnEvent({"content_block_delta", "{\"type\":\"content_block_delta\",\"ind", ""}, out);
  ASSERT_TRUE(translator.done());
  const auto lines = DataLines(out);
  ASSERT_GE(lines.size(), 2U);
  EXPECT_EQ(lines.back(), "[DONE]");
  const auto error = nlohmann::json::parse(lines[lines.size() - 2]);
  EXPECT_EQ(error["error"]["type"], "api_error");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("not valid JSON"), std::string::npos);

  StreamTranslator tolerant(Options());
  std::string ignored;
  tolerant.OnEvent({"future_thing", "<<binary>>", ""}, ignored);
  EXPECT_FALSE(tolerant.done());
  EXPECT_TRUE(ignored.empty());
}

TEST(StreamTranslator, StopReasonWithoutMessageStopFinishesNormally) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "delta_without_stop.sse"), {});
  EXPECT_NE(out.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_EQ(out.find("\"error\""), std::string::npos);
}

TEST(StreamTranslator, ForwardsPingAsSseComment) {
  StreamTranslator translator(Options());
  std::string out;
  translator.OnEvent({"ping", R"({"type": "ping"})", ""}, out);
  EXPECT_EQ(out, ": ping\n\n");
  EXPECT_FALSE(translator.started());
}

TEST(StreamTranslator, DropsPingsWhenForwardingIsOff) {
  StreamTranslator translator(StreamOptions{"m", 1, false, false});
  std::string out;
  translator.OnEvent({"ping", R"({"type": "ping"})", ""}, out);
  EXPECT_TRUE(out.empty());
}

TEST(StreamTranslator, IgnoresEventsAfterDone) {
  StreamTranslator translator(Options());
  std::string out;
  translator.Abort("server_error", "upstream idle timeout", out);
  EXPECT_TRUE(translator.done());
  const std::string before = out;
  translator.OnEvent({"message_start", R"({"type":"message_start","message":{"id":"x"}})", ""},
                     out);
  translator.OnUpstreamEnd(out);
  EXPECT_EQ(out, before);
  const auto error = nlohmann::json::parse(DataLines(out).at(0));
  EXPECT_EQ(error["error"]["type"], "server_error");
  EXPECT_EQ(error["error"]["message"], "upstream idle timeout");
}

TEST(StreamTranslator, RefusalFinishesWithContentFilterAndExplanation) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "refusal.sse"), {});
  const auto lines = DataLines(out);
  const auto finish = nlohmann::json::parse(lines[lines.size() - 3]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(finish["choices"][0]["delta"]["refusal"],
            "This request was blocked by a safety classifier.");
}

TEST(StreamTranslator, JoinsSurrogatePairSplitAcrossDeltas) {
  const std::string out = Translate(ReadFile(DataDir() / "sse" / "surrogate_split.sse"), {});
  std::string text;
  for (const auto& line : DataLines(out)) {
    if (line == "[DONE]") {
      continue;
    }
    const auto chunk = nlohmann::json::parse(line);
    if (!chunk["choices"].empty()) {
      text += chunk["choices"][0]["delta"].value("content", "");
    }
  }
  EXPECT_EQ(text, "smile \xF0\x9F\x98\x80 done lone \xEF\xBF\xBD end \xEF\xBF\xBD");
}

}  // namespace
}  // namespace claudegate::translate
