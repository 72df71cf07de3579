#include "claudegate/anthropic/event_reader.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/sse/decoder.hpp"

#include "../translate/golden_util.hpp"

namespace claudegate::anthropic {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ExpectGolden;
using claudegate::testing::FilesWithSuffix;
using claudegate::testing::ReadFile;

std::string Opt(const std::optional<std::string_view>& value) {
  return value ? nlohmann::json(std::string(*value)).dump() : "-";
}

std::string Opt(const std::optional<std::size_t>& value) {
  return value ? std::to_string(*value) : "-";
}

std::string Json(const nlohmann::json* value) { return value != nullptr ? value->dump() : "-"; }

const char* Name(BlockType type) {
  switch (type) {
    case BlockType::kText:
      return "text";
    case BlockType::kThinking:
      return "thinking";
    case BlockType::kRedactedThinking:
      return "redacted_thinking";
    case BlockType::kToolUse:
      return "tool_use";
    case BlockType::kServerToolUse:
      return "server_tool_use";
    case BlockType::kOther:
      return "other";
  }
  return "?";
}

const char* Name(DeltaKind kind) {
  switch (kind) {
    case DeltaKind::kText:
      return "text";
    case DeltaKind::kThinking:
      return "thinking";
    case DeltaKind::kInputJson:
      return "input_json";
    case DeltaKind::kSignature:
      return "signature";
    case DeltaKind::kCitations:
      return "citations";
    case DeltaKind::kOther:
      return "other";
  }
  return "?";
}

// Writes one line per visitor call: the typed events as a consumer sees them.
class Recorder : public EventVisitor {
 public:
  std::string log;

  void OnMessageStart(const MessageStart& e) override {
    log += "message_start id=" + Opt(e.id) + " model=" + Opt(e.model) + " usage=" + Json(e.usage) +
           " message=" + (e.message != nullptr ? "object" : "-") + "\n";
  }
  void OnBlockStart(const BlockStart& e) override {
    log += "block_start index=" + Opt(e.index) + " type=" + Name(e.type) +
           " block=" + (e.block != nullptr ? "object" : "-") + " text=" + Opt(e.text) +
           " thinking=" + Opt(e.thinking) + " data=" + Opt(e.data) + " id=" + Opt(e.id) +
           " name=" + Opt(e.name) + " input=" + Json(e.input) + "\n";
  }
  void OnDelta(const Delta& e) override {
    log += "delta index=" + Opt(e.index) + " kind=" + Name(e.kind) +
           " value=" + nlohmann::json(std::string(e.value)).dump() +
           " path=" + (e.delta != nullptr ? "dom" : "fast-or-none") + "\n";
  }
  void OnBlockStop(const BlockStop& e) override {
    log += "block_stop index=" + Opt(e.index) + "\n";
  }
  void OnMessageDelta(const MessageDelta& e) override {
    log += "message_delta stop_reason=" + Opt(e.stop_reason) +
           " stop_sequence=" + Opt(e.stop_sequence) + " explanation=" + Opt(e.stop_explanation) +
           " usage=" + Json(e.usage) + "\n";
  }
  void OnMessageStop() override { log += "message_stop\n"; }
  void OnError(const ErrorEvent& e) override {
    log += "error type=" + Opt(e.type) + " message=" + Opt(e.message) + "\n";
  }
  void OnPing() override { log += "ping\n"; }
  void OnUnknown(const UnknownEvent& e) override {
    log += "unknown type=" + nlohmann::json(std::string(e.type)).dump() + " data=" + Json(e.data) +
           "\n";
  }
  void OnMalformed(std::string_view name) override {
    log += "malformed " + std::string(name) + "\n";
  }
};

sse::Event Ev(std::string name, std::string data) {
  sse::Event event;
  event.event = std::move(name);
  event.data = std::move(data);
  return event;
}

std::string ReadOne(const sse::Event& event) {
  EventReader reader;
  Recorder recorder;
  reader.Read(event, recorder);
  return recorder.log;
}

struct Case {
  const char* name;
  const char* event;
  std::string data;
  std::string expected;  // The Recorder's log for this one event.
};

std::vector<Case> Cases() {
  return {
      // Each event kind, as Anthropic sends it.
      {"message start", "message_start",
       R"({"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":3}}})",
       "message_start id=\"msg_1\" model=\"claude-x\" usage={\"input_tokens\":3} message=object\n"},
      {"message start without message", "message_start", R"({"type":"message_start"})",
       "message_start id=- model=- usage=- message=-\n"},
      {"message start with non-object message", "message_start",
       R"({"type":"message_start","message":"x"})",
       "message_start id=- model=- usage=- message=-\n"},
      {"text block start", "content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
       "block_start index=0 type=text block=object text=\"\" thinking=- data=- id=- name=- "
       "input=-\n"},
      {"tool block start", "content_block_start",
       R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}})",
       "block_start index=2 type=tool_use block=object text=- thinking=- data=- id=\"t1\" "
       "name=\"f\" input={}\n"},
      {"redacted thinking start", "content_block_start",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"abc"}})",
       "block_start index=1 type=redacted_thinking block=object text=- thinking=- data=\"abc\" "
       "id=- name=- input=-\n"},
      {"server tool block start", "content_block_start",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"server_tool_use","id":"s","name":"web_search"}})",
       "block_start index=1 type=server_tool_use block=object text=- thinking=- data=- id=\"s\" "
       "name=\"web_search\" input=-\n"},
      {"unknown block type", "content_block_start",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"web_search_tool_result"}})",
       "block_start index=1 type=other block=object text=- thinking=- data=- id=- name=- "
       "input=-\n"},
      {"block start without block", "content_block_start",
       R"({"type":"content_block_start","index":1})",
       "block_start index=1 type=other block=- text=- thinking=- data=- id=- name=- input=-\n"},
      {"text delta (fast)", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"x\"\n"}})",
       "delta index=0 kind=text value=\"Hi \\\"x\\\"\\n\" path=fast-or-none\n"},
      {"text delta (escaped key, full parse)", "content_block_delta",
       R"({"\u0074ype":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})",
       "delta index=0 kind=text value=\"Hi\" path=dom\n"},
      {"thinking delta", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}})",
       "delta index=0 kind=thinking value=\"hm\" path=fast-or-none\n"},
      {"signature delta", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s"}})",
       "delta index=0 kind=signature value=\"s\" path=fast-or-none\n"},
      {"input json delta", "content_block_delta",
       R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}})",
       "delta index=3 kind=input_json value=\"{\\\"a\\\":\" path=fast-or-none\n"},
      {"citations delta", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}})",
       "delta index=0 kind=citations value=\"\" path=dom\n"},
      {"unknown delta type", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"future_delta","x":1}})",
       "delta index=0 kind=other value=\"\" path=dom\n"},
      {"text delta without text", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})",
       "delta index=0 kind=other value=\"\" path=dom\n"},
      {"delta without delta object", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":[]})",
       "delta index=0 kind=other value=\"\" path=fast-or-none\n"},
      {"extra key takes the full parse", "content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"x":1})",
       "delta index=0 kind=text value=\"a\" path=dom\n"},
      {"block stop", "content_block_stop", R"({"type":"content_block_stop","index":4})",
       "block_stop index=4\n"},
      {"message delta", "message_delta",
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}})",
       "message_delta stop_reason=\"end_turn\" stop_sequence=- explanation=- "
       "usage={\"output_tokens\":9}\n"},
      {"message delta with stop details", "message_delta",
       R"({"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":"END","stop_details":{"explanation":"no"}}})",
       "message_delta stop_reason=\"refusal\" stop_sequence=\"END\" explanation=\"no\" usage=-\n"},
      {"message stop", "message_stop", R"({"type":"message_stop"})", "message_stop\n"},
      {"error", "error",
       R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       "error type=\"overloaded_error\" message=\"Overloaded\"\n"},
      {"error without fields", "error", R"({"type":"error","error":{"type":5}})",
       "error type=- message=-\n"},
      {"ping", "ping", R"({"type":"ping"})", "ping\n"},
      {"unknown event", "future_event", R"({"type":"future_event","x":1})",
       "unknown type=\"future_event\" data={\"type\":\"future_event\",\"x\":1}\n"},

      // The event type: the data's wins; the SSE name stands in when the data has none.
      {"data type overrides the event name", "ping", R"({"type":"message_stop"})",
       "message_stop\n"},
      {"event name when the data has no type", "content_block_stop", R"({"index":1})",
       "block_stop index=1\n"},
      {"event name when the type is not a string", "message_stop", R"({"type":7})",
       "message_stop\n"},
      {"no name and no type", "", R"({"a":1})", "unknown type=\"\" data={\"a\":1}\n"},

      // Malformed data: an error for the Messages events, tolerated elsewhere.
      {"malformed message start", "message_start", R"({"type":"message_start",)",
       "malformed message_start\n"},
      {"malformed delta", "content_block_delta", R"({"type":"content_block_delta","index":0)",
       "malformed content_block_delta\n"},
      {"malformed block start", "content_block_start", "not json",
       "malformed content_block_start\n"},
      {"malformed block stop", "content_block_stop", "", "malformed content_block_stop\n"},
      {"malformed message delta", "message_delta", "[1]", "malformed message_delta\n"},
      {"malformed message stop", "message_stop", "null", "malformed message_stop\n"},
      {"malformed error", "error", R"("overloaded")", "malformed error\n"},
      {"ping with garbage is still a ping", "ping", "garbage", "ping\n"},
      {"unknown event with garbage is ignored", "future_event", "garbage", ""},
      {"no name with garbage is ignored", "", "[DONE]", ""},
      {"invalid UTF-8 is malformed", "content_block_delta",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
       "\"text\":\"\xC0\xAF\"}}",
       "malformed content_block_delta\n"},

      // Indexes: only a non-negative integer below kMaxBlockIndex is one.
      {"index 4095", "content_block_stop", R"({"type":"content_block_stop","index":4095})",
       "block_stop index=4095\n"},
      {"index 4096 is out of bounds", "content_block_stop",
       R"({"type":"content_block_stop","index":4096})", "block_stop index=-\n"},
      {"huge index on the fast path", "content_block_delta",
       R"({"type":"content_block_delta","index":999999999,"delta":{"type":"text_delta","text":"x"}})",
       "delta index=- kind=text value=\"x\" path=fast-or-none\n"},
      {"huge index on the full parse", "content_block_delta",
       R"({"type":"content_block_delta","index":18446744073709551615,"delta":{"type":"text_delta","text":"x"}})",
       "delta index=- kind=text value=\"x\" path=dom\n"},
      {"negative index", "content_block_stop", R"({"type":"content_block_stop","index":-1})",
       "block_stop index=-\n"},
      {"float index", "content_block_stop", R"({"type":"content_block_stop","index":1.0})",
       "block_stop index=-\n"},
      {"string index", "content_block_stop", R"({"type":"content_block_stop","index":"1"})",
       "block_stop index=-\n"},
      {"missing index", "content_block_stop", R"({"type":"content_block_stop"})",
       "block_stop index=-\n"},
  };
}

TEST(EventReader, ReadsEveryEventKindAsTheTableSays) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ReadOne(Ev(c.event, c.data)), c.expected);
  }
}

// A large delta (far past any buffer the scanner might keep) is read whole on both paths.
TEST(EventReader, ReadsAnOversizedDeltaWhole) {
  const std::string text(1U << 20U, 'a');
  const std::string fast =
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" + text +
      "\"}}";
  const std::string slow =
      R"({"\u0074ype":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" +
      text + "\"}}";
  for (const std::string& data : {fast, slow}) {
    EventReader reader;
    struct : EventVisitor {
      std::size_t size = 0;
      void OnDelta(const Delta& e) override { size = e.value.size(); }
    } visitor;
    reader.Read(Ev("content_block_delta", data), visitor);
    EXPECT_EQ(visitor.size, text.size());
  }
}

std::string Delta(const std::string& text) {
  return R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" + text +
         "\"}}";
}

// A surrogate pair split across two deltas: the high half is held back and glued to the low
// half of the next event, so both deltas parse and the pair arrives whole.
TEST(EventReader, JoinsASurrogatePairSplitAcrossDeltas) {
  EventReader reader;
  Recorder recorder;
  reader.Read(Ev("content_block_delta", Delta(R"(smile \ud83d)")), recorder);
  reader.Read(Ev("content_block_delta", Delta(R"(\ude00 done)")), recorder);
  EXPECT_EQ(recorder.log,
            "delta index=0 kind=text value=\"smile \" path=dom\n"
            "delta index=0 kind=text value=\"\xF0\x9F\x98\x80 done\" path=dom\n");
  EXPECT_FALSE(reader.TakeLoneHighSurrogate());
}

TEST(EventReader, HandsOutAHighHalfLeftAtTheEndOnce) {
  EventReader reader;
  Recorder recorder;
  reader.Read(Ev("content_block_delta", Delta(R"(end \ud83d)")), recorder);
  EXPECT_EQ(recorder.log, "delta index=0 kind=text value=\"end \" path=dom\n");
  EXPECT_TRUE(reader.TakeLoneHighSurrogate());
  EXPECT_FALSE(reader.TakeLoneHighSurrogate());
}

TEST(EventReader, ReplacesLoneSurrogatesInsideADelta) {
  EXPECT_EQ(ReadOne(Ev("content_block_delta", Delta(R"(a\udc00b\ud800c)"))),
            "delta index=0 kind=text value=\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\" path=dom\n");
}

// A low half with no held high half is a lone surrogate too: U+FFFD, not an error.
TEST(EventReader, ReplacesALowHalfWithoutItsHighHalf) {
  EXPECT_EQ(ReadOne(Ev("content_block_delta", Delta(R"(\ude00x)"))),
            "delta index=0 kind=text value=\"\xEF\xBF\xBD"
            "x\" path=dom\n");
}

// Every transcript in tests/data/sse, read event by event: the typed events each consumer sees.
TEST(EventReader, MatchesTheTypedEventGoldenForEveryTranscript) {
  for (const auto& path : FilesWithSuffix(DataDir() / "sse", ".sse")) {
    const std::string stem = path.stem().string();
    if (stem.ends_with(".openai")) {
      continue;
    }
    SCOPED_TRACE(stem);
    sse::Decoder decoder;
    EventReader reader;
    Recorder recorder;
    ASSERT_TRUE(
        decoder.Feed(ReadFile(path), [&](const sse::Event& event) { reader.Read(event, recorder); })
            .has_value());
    if (reader.TakeLoneHighSurrogate()) {
      recorder.log += "(lone high surrogate pending at the end)\n";
    }
    ExpectGolden(DataDir() / "anthropic" / (stem + ".events"), recorder.log);
  }
}

}  // namespace
}  // namespace claudegate::anthropic
