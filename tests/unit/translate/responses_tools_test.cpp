// Custom, namespaced and web-search tools on the Responses route: the name map, the streamed
// custom-tool input, and the stream/non-stream output for a request declaring such tools.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/message_accumulator.hpp"
#include "claudegate/translate/response/responses_output.hpp"
#include "claudegate/translate/stream/json_string_extractor.hpp"
#include "claudegate/translate/stream/responses_stream.hpp"
#include "claudegate/translate/tool_name_map.hpp"

#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ExpectGolden;
using claudegate::testing::FilesWithSuffix;
using claudegate::testing::ReadFile;
using nlohmann::json;

// ---- ToolNameMap ----

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

struct NameCase {
  std::string ns;
  std::string name;
  std::string claude;  // Expected flat name; empty: only check the rules and the round trip.
  ClientToolKind kind;
};

TEST(ToolNameMap, FlattensWithinTheNameRulesAndMapsBackExactly) {
  const ToolNameMap map = ToolNameMap::FromResponsesTools(CodexTools());
  const std::vector<NameCase> cases = {
      {"", "shell", "shell", ClientToolKind::kFunction},
      {"", "apply_patch", "apply_patch", ClientToolKind::kCustom},
      {"mcp__browser__", "navigate", "mcp__browser__navigate", ClientToolKind::kFunction},
      // Taken by the top-level function of that name: shortened with a hash instead.
      {"mcp__browser__", "snapshot", "", ClientToolKind::kFunction},
      {"agents", "spawn", "agents__spawn", ClientToolKind::kFunction},
      {"agents", "script", "agents__script", ClientToolKind::kCustom},
      {"mcp__a_server_with_a_really_remarkably_long_name__", "tool_with_a_long_name_too", "",
       ClientToolKind::kFunction},
      {"odd.name", "x", "", ClientToolKind::kFunction},
  };
  std::vector<std::string> seen;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ns + "/" + c.name);
    const std::string claude = map.ClaudeName(c.ns, c.name);
    if (!c.claude.empty()) {
      EXPECT_EQ(claude, c.claude);
    }
    EXPECT_LE(claude.size(), kMaxFlatToolName);
    EXPECT_EQ(claude.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"),
              std::string::npos);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), claude), 0) << "not unique";
    seen.push_back(claude);
    const ClientTool* tool = map.Find(claude);
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(tool->ns, c.ns);
    EXPECT_EQ(tool->name, c.name);
    EXPECT_EQ(tool->kind, c.kind);
  }
}

TEST(ToolNameMap, IsDeterministicAndPassesUnknownNamesThrough) {
  const ToolNameMap a = ToolNameMap::FromResponsesTools(CodexTools());
  const ToolNameMap b = ToolNameMap::FromResponsesTools(CodexTools());
  EXPECT_EQ(a.ClaudeName("mcp__browser__", "snapshot"), b.ClaudeName("mcp__browser__", "snapshot"));
  EXPECT_EQ(a.Find("web_search"), nullptr);
  EXPECT_EQ(a.Find("not_declared"), nullptr);
  // A call from history whose namespace is no longer offered still gets the default flat form.
  EXPECT_EQ(a.ClaudeName("mcp__gone__", "tool"), "mcp__gone__tool");
  EXPECT_EQ(FlatToolName("ns", "tool"), "ns__tool");
  EXPECT_EQ(ToolNameMap::FromResponsesTools(json("junk")).Find("shell"), nullptr);
}

// ---- JsonStringExtractor ----

struct ExtractCase {
  std::string name;
  std::vector<std::string> fragments;
  std::string want;  // Text yielded in total.
  bool failed;
  bool complete;
};

TEST(JsonStringExtractor, DecodesTheValueAcrossAnySplit) {
  const std::vector<ExtractCase> cases = {
      {"plain", {R"({"input":"abc"})"}, "abc", false, true},
      {"whitespace", {" {\n \"input\" : \"a b\" } "}, "a b", false, true},
      {"split everywhere", {"{", "\"in", "put\"", ":", "\"a", "b\"", "}"}, "ab", false, true},
      {"escapes", {R"({"input":"a\n\t\"\\\/\b\f\r"})"}, "a\n\t\"\\/\b\f\r", false, true},
      {"escape split", {R"({"input":"a\)", R"(nb"})"}, "a\nb", false, true},
      {"unicode split", {R"({"input":"caf\u00)", R"(e9"})"}, "caf\xC3\xA9", false, true},
      {"surrogate pair split",
       {R"({"input":"\ud83d)", R"(\ude00!"})"},
       "\xF0\x9F\x98\x80!",
       false,
       true},
      {"pair split inside the escape",
       {R"({"input":"\ud83d\u)", R"(de00"})"},
       "\xF0\x9F\x98\x80",
       false,
       true},
      {"lone high then text", {R"({"input":"\ud83dx"})"}, "\xEF\xBF\xBDx", false, true},
      {"lone low", {R"({"input":"\ude00"})"}, "\xEF\xBF\xBD", false, true},
      {"high then escape", {R"({"input":"\ud83d\n"})"}, "\xEF\xBF\xBD\n", false, true},
      {"raw utf8", {"{\"input\":\"\xC3\xA9\"}"}, "\xC3\xA9", false, true},
      {"unfinished", {R"({"input":"abc)"}, "abc", false, false},
      {"other key", {R"({"reason":"x","input":"y"})"}, "", true, false},
      {"extra key after", {R"({"input":"y","more":1})"}, "y", true, false},
      {"not a string", {R"({"input":42})"}, "", true, false},
      {"escaped key", {R"({"in\u0070ut":"y"})"}, "", true, false},
      {"bad escape", {R"({"input":"a\q"})"}, "a", true, false},
      {"bad unicode", {R"({"input":"\u12x4"})"}, "", true, false},
      {"array", {R"(["input"])"}, "", true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    JsonStringExtractor extractor("input");
    std::string got;
    for (const auto& fragment : c.fragments) {
      extractor.Feed(fragment, got);
    }
    EXPECT_EQ(got, c.want);
    EXPECT_EQ(extractor.failed(), c.failed);
    EXPECT_EQ(extractor.complete(), c.complete);
  }
}

TEST(JsonStringExtractor, OneByteFragmentsGiveTheSameText) {
  const std::string whole = R"({"input":"*** Begin Patch\n+\ud83d\ude00 caf\u00e9 \"q\"\n"})";
  JsonStringExtractor at_once("input");
  std::string expected;
  at_once.Feed(whole, expected);
  JsonStringExtractor bytewise("input");
  std::string got;
  for (char c : whole) {
    bytewise.Feed(std::string_view(&c, 1), got);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected, json::parse(whole)["input"].get<std::string>());
  EXPECT_TRUE(bytewise.complete());
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
