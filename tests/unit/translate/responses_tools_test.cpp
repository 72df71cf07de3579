// Custom and namespaced tools on the Responses route: the stream and non-stream output for a
// request declaring such tools (tests/data/translate/responses_tools/*.sse and their goldens).
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/message_accumulator.hpp"
#include "claudegate/translate/response/responses_output.hpp"
#include "claudegate/translate/stream/responses_stream.hpp"

#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ExpectGolden;
using claudegate::testing::FilesWithSuffix;
using claudegate::testing::ReadFile;
using nlohmann::json;

const json& CodexTools() {
  static const json kTools = json::parse(R"([
    {"type": "function", "name": "shell"},
    {"type": "custom", "name": "apply_patch"},
    {"type": "function", "name": "mcp__browser__snapshot"},
    {"type": "namespace", "name": "mcp__browser__", "tools": [
      {"type": "function", "name": "navigate"}, {"type": "function", "name": "snapshot"}]},
    {"type": "namespace", "name": "agents", "tools": [
      {"type": "function", "name": "spawn"}, {"type": "custom", "name": "script"}]},
    {"type": "namespace", "name": "mcp__a_server_with_a_really_remarkably_long_name__",
     "tools": [{"type": "function", "name": "tool_with_a_long_name_too"}]},
    {"type": "namespace", "name": "odd.name", "tools": [{"type": "function", "name": "x"}]},
    {"type": "web_search"}
  ])");
  return kTools;
}

// ---- Output for a request that declared custom and namespaced tools ----

ResponseMeta Meta() {
  ResponseMeta meta;
  meta.model = "sonnet";
  meta.created_at = 1700000000;
  meta.echo = {{"tool_choice", "auto"}, {"tools", CodexTools()}};
  return meta;
}

std::string Stream(std::string_view wire, const std::vector<std::size_t>& cuts,
                   json* final_response = nullptr) {
  sse::Decoder decoder;
  ResponsesStreamTranslator translator(Meta());
  std::string out;
  std::size_t begin = 0;
  auto feed = [&](std::size_t end) {
    EXPECT_TRUE(decoder
                    .Feed(wire.substr(begin, end - begin),
                          [&](const sse::Event& event) { translator.OnEvent(event, out); })
                    .has_value());
    begin = end;
  };
  for (const std::size_t cut : cuts) {
    feed(cut);
  }
  feed(wire.size());
  translator.OnUpstreamEnd(out);
  if (final_response != nullptr) {
    *final_response = translator.response();
  }
  return out;
}

json NonStream(std::string_view wire) {
  sse::Decoder decoder;
  MessageAccumulator accumulator;
  EXPECT_TRUE(
      decoder.Feed(wire, [&](const sse::Event& event) { accumulator.OnEvent(event); }).has_value());
  auto message = accumulator.TakeMessage();
  EXPECT_TRUE(message.has_value());
  auto response = ToResponse(*message, Meta());
  EXPECT_TRUE(response.has_value());
  return *response;
}

void NormalizeArguments(json& response) {
  for (auto& item : response["output"]) {
    if (item["type"] == "function_call") {
      item["arguments"] = json::parse(item["arguments"].get<std::string>());
    }
  }
}

class ToolTranscript : public ::testing::TestWithParam<std::string> {
 protected:
  std::filesystem::path Path(std::string_view ext) const {
    return DataDir() / "translate" / "responses_tools" / (GetParam() + std::string(ext));
  }
  std::string Wire() const { return ReadFile(Path(".sse")); }
};

std::vector<std::string> ToolTranscriptNames() {
  std::vector<std::string> names;
  for (const auto& path : FilesWithSuffix(DataDir() / "translate" / "responses_tools", ".sse")) {
    const std::string stem = path.stem().string();
    if (!stem.ends_with(".responses")) {
      names.push_back(stem);
    }
  }
  return names;
}

TEST_P(ToolTranscript, StreamMatchesGolden) {
  ExpectGolden(Path(".responses.sse"), Stream(Wire(), {}));
}

TEST_P(ToolTranscript, NonStreamMatchesGolden) {
  ExpectGolden(Path(".responses.json"), NonStream(Wire()).dump(2) + "\n");
}

TEST_P(ToolTranscript, GivesSameOutputWhenSplitAtEveryByteOffset) {
  const std::string wire = Wire();
  const std::string whole = Stream(wire, {});
  for (std::size_t i = 1; i < wire.size(); ++i) {
    ASSERT_EQ(whole, Stream(wire, {i})) << "split at " << i;
  }
}

TEST_P(ToolTranscript, FinalSnapshotEqualsNonStreamResponse) {
  json streamed;
  Stream(Wire(), {}, &streamed);
  json accumulated = NonStream(Wire());
  NormalizeArguments(streamed);
  NormalizeArguments(accumulated);
  EXPECT_EQ(streamed, accumulated);
}

// The custom tool's deltas add up to its final input, whatever the JSON looked like.
TEST_P(ToolTranscript, CustomInputDeltasAddUpToTheDoneInput) {
  sse::Decoder decoder;
  std::string deltas;
  std::string done;
  ASSERT_TRUE(decoder
                  .Feed(Stream(Wire(), {}),
                        [&](const sse::Event& event) {
                          const json data = json::parse(event.data);
                          if (event.event == "response.custom_tool_call_input.delta") {
                            deltas += data["delta"].get<std::string>();
                          } else if (event.event == "response.custom_tool_call_input.done") {
                            done = data["input"].get<std::string>();
                          }
                        })
                  .has_value());
  if (GetParam() == "custom_tool") {
    EXPECT_EQ(deltas, done);
    EXPECT_NE(done.find("\xF0\x9F\x98\x80"), std::string::npos);
  } else if (GetParam() == "custom_tool_extra_key") {
    EXPECT_EQ(deltas, "");  // Not the one-key shape: only the final value.
    EXPECT_EQ(done, "patch body");
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ToolTranscript, ::testing::ValuesIn(ToolTranscriptNames()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace claudegate::translate
