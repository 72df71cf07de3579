#include "claudegate/anthropic/block_delta_scan.hpp"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/message_accumulator.hpp"
#include "claudegate/translate/stream/responses_stream.hpp"
#include "claudegate/translate/stream/stream_translator.hpp"

namespace claudegate::anthropic {
namespace {

using translate::MessageAccumulator;
using translate::ResponseMeta;
using translate::ResponsesStreamTranslator;
using translate::StreamOptions;
using translate::StreamTranslator;

// What the full DOM path reads from the same bytes, or nullopt when it would not see one of the
// four recognised deltas with a string field.
std::optional<BlockDelta> ViaDom(std::string_view data, std::string& storage) {
  const auto json = nlohmann::json::parse(data, nullptr, false);
  if (!json.is_object() || json.value("type", "") != "content_block_delta" ||
      !json.contains("index") || !json["index"].is_number_unsigned() || !json.contains("delta") ||
      !json["delta"].is_object()) {
    return std::nullopt;
  }
  const auto& delta = json["delta"];
  const std::string type = delta.value("type", "");
  BlockDelta out;
  std::string field;
  if (type == "text_delta") {
    out.kind = DeltaKind::kText;
    field = "text";
  } else if (type == "thinking_delta") {
    out.kind = DeltaKind::kThinking;
    field = "thinking";
  } else if (type == "input_json_delta") {
    out.kind = DeltaKind::kInputJson;
    field = "partial_json";
  } else if (type == "signature_delta") {
    out.kind = DeltaKind::kSignature;
    field = "signature";
  } else {
    return std::nullopt;
  }
  if (!delta.contains(field) || !delta[field].is_string()) {
    return std::nullopt;
  }
  out.index = json["index"].get<std::size_t>();
  storage = delta[field].get<std::string>();
  out.value = storage;
  return out;
}

struct Case {
  const char* name;
  std::string data;
  bool fast;  // whether the scanner should take it (else it must decline)
};

std::vector<Case> Cases() {
  return {
      {"plain text",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})",
       true},
      {"thinking",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"hm"}})",
       true},
      {"tool args",
       R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}})",
       true},
      {"signature",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}})",
       true},
      {"empty string",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}})", true},
      {"big index",
       R"({"type":"content_block_delta","index":123456789,"delta":{"type":"text_delta","text":"x"}})",
       true},
      {"escapes",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"b\\c\/d\b\f\n\r\te"}})",
       true},
      {"unicode escapes",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\u00e9\u4e2d\u0000\u001F\uFFFF"}})",
       true},
      {"surrogate pair",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x\ud83d\ude00y\uD83D\uDE00"}})",
       true},
      {"raw utf-8",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
       "\"caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"}}",
       true},
      {"odd whitespace",
       " \t\r\n{ \"type\" :\t\"content_block_delta\" ,\n\"index\"\r: 3 , \"delta\" : { \"type\" : "
       "\"text_delta\" , \"text\" : \"hi\" } } \n",
       true},
      {"key order",
       R"({"delta":{"text":"hi","type":"text_delta"},"index":4,"type":"content_block_delta"})",
       true},
      {"lone high surrogate at end",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\ud83d"}})",
       false},
      {"lone low surrogate",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\ude00b"}})",
       false},
      {"high then non-low",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\ud83d\u0041"}})",
       false},
      {"bad escape",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\x41"}})",
       false},
      {"short unicode escape",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\u12"}})",
       false},
      {"raw control char",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
       "\"a\tb\"}}",
       false},
      {"invalid utf-8",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
       "\"\xC3\x28\"}}",
       false},
      {"overlong utf-8",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
       "\"\xC0\xAF\"}}",
       false},
      {"utf-8 surrogate",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
       "\"\xED\xA0\x80\"}}",
       false},
      {"truncated utf-8",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
       "\"\xE4\xB8\"}}",
       false},
      {"above U+10FFFF",
       "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
       "\"\xF4\x90\x80\x80\"}}",
       false},
      {"escaped key",
       R"({"\u0074ype":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})",
       false},
      {"escaped type value",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text\u005fdelta","text":"x"}})",
       false},
      {"other event",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
       false},
      {"other delta type",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}})",
       false},
      {"type and field disagree",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","thinking":"x"}})",
       false},
      {"missing field", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}})",
       false},
      {"missing index",
       R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}})", false},
      {"missing type", R"({"index":0,"delta":{"type":"text_delta","text":"x"}})", false},
      {"extra key",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"},"more":1})",
       false},
      {"extra delta key",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","more":1}})",
       false},
      {"duplicate key",
       R"({"type":"content_block_delta","index":0,"index":1,"delta":{"type":"text_delta","text":"x"}})",
       false},
      {"duplicate field",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","text":"y"}})",
       false},
      {"negative index",
       R"({"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"x"}})",
       false},
      {"fractional index",
       R"({"type":"content_block_delta","index":1.0,"delta":{"type":"text_delta","text":"x"}})",
       false},
      {"exponent index",
       R"({"type":"content_block_delta","index":1e2,"delta":{"type":"text_delta","text":"x"}})",
       false},
      {"leading zero index",
       R"({"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"x"}})",
       false},
      {"string index",
       R"({"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"x"}})",
       false},
      {"huge index",
       R"({"type":"content_block_delta","index":12345678901234567890123,"delta":{"type":"text_delta","text":"x"}})",
       false},
      {"non-string text",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})", false},
      {"trailing bytes",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}x)",
       false},
      {"trailing comma",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"},})",
       false},
      {"unterminated string",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x)", false},
      {"unterminated object",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"})",
       false},
      {"empty", "", false},
      {"not json", "[DONE]", false},
  };
}

TEST(ScanBlockDelta, AgreesWithTheDomParseOnEveryCase) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::string scratch = "left over from a previous event";
    BlockDelta fast;
    const bool took = ScanBlockDelta(c.data, scratch, fast);
    EXPECT_EQ(took, c.fast);
    std::string storage;
    const auto dom = ViaDom(c.data, storage);
    if (took) {
      // Whatever the scanner takes, the DOM reads identically.
      ASSERT_TRUE(dom.has_value());
      EXPECT_EQ(fast.index, dom->index);
      EXPECT_EQ(fast.kind, dom->kind);
      EXPECT_EQ(fast.value, dom->value);
    }
  }
}

// The translators must produce the same bytes whether an event takes the fast path or the full
// parse. An escaped key (`"\u0074ype"`) is the same JSON to the DOM but makes the scanner
// decline, so rewriting every delta that way forces the slow path on an identical stream.
std::string ForceSlowPath(std::string wire) {
  const std::string from = R"({"type":"content_block_delta")";
  const std::string to = R"({"\u0074ype":"content_block_delta")";
  for (std::size_t pos = wire.find(from); pos != std::string::npos;
       pos = wire.find(from, pos + to.size())) {
    wire.replace(pos, from.size(), to);
  }
  return wire;
}

std::string Event(const std::string& data) { return "event: x\ndata: " + data + "\n\n"; }

std::string Transcript() {
  std::string wire;
  wire += Event(
      R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}})");
  wire += Event(
      R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})");
  wire += Event(
      R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"let me \"think\"\n"}})");
  wire += Event(
      R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}})");
  wire += Event(R"({"type":"content_block_stop","index":0})");
  wire += Event(
      R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})");
  for (const Case& c : Cases()) {
    if (c.fast && c.data.find("\"text\"") != std::string::npos &&
        c.data.find("\"index\"") != std::string::npos) {
      // Every accepted text case, re-pointed at block 1.
      nlohmann::json data = nlohmann::json::parse(c.data);
      data["index"] = 1;
      wire += Event(data.dump());
    }
  }
  wire += Event(
      R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"half \ud83d"}})");
  wire += Event(
      R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"\ude00 whole"}})");
  wire += Event(
      R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"wrong kind ok"}})");
  wire += Event(
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ignored"}})");
  wire += Event(
      R"({"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"no such block"}})");
  wire += Event(R"({"type":"content_block_stop","index":1})");
  wire += Event(
      R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}})");
  wire += Event(
      R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\": "}})");
  wire += Event(
      R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"\u00e9\"}"}})");
  wire += Event(R"({"type":"content_block_stop","index":2})");
  wire += Event(
      R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}})");
  wire += Event(R"({"type":"message_stop"})");
  return wire;
}

template <typename Consume>
void Feed(std::string_view wire, Consume consume) {
  sse::Decoder decoder;
  auto fed = decoder.Feed(wire, [&](const sse::Event& event) { consume(event); });
  ASSERT_TRUE(fed.has_value());
}

TEST(ScanBlockDelta, StreamTranslatorOutputIsTheSameOnBothPaths) {
  const std::string wire = Transcript();
  const std::string slow_wire = ForceSlowPath(wire);
  ASSERT_NE(wire, slow_wire);
  auto run = [](std::string_view bytes) {
    StreamTranslator translator(StreamOptions{"sonnet", 1700000000, true, true});
    std::string out;
    Feed(bytes, [&](const sse::Event& event) { translator.OnEvent(event, out); });
    translator.OnUpstreamEnd(out);
    return out;
  };
  const std::string fast = run(wire);
  EXPECT_NE(fast.find("whole"), std::string::npos);
  EXPECT_EQ(fast, run(slow_wire));
}

TEST(ScanBlockDelta, MessageAccumulatorResultIsTheSameOnBothPaths) {
  const std::string wire = Transcript();
  auto run = [](std::string_view bytes) {
    MessageAccumulator accumulator;
    Feed(bytes, [&](const sse::Event& event) { accumulator.OnEvent(event); });
    auto message = accumulator.TakeMessage();
    EXPECT_TRUE(message.has_value());
    return message ? message->dump() : std::string();
  };
  const std::string fast = run(wire);
  EXPECT_NE(fast.find("sig"), std::string::npos);
  EXPECT_EQ(fast, run(ForceSlowPath(wire)));
}

TEST(ScanBlockDelta, ResponsesStreamOutputIsTheSameOnBothPaths) {
  const std::string wire = Transcript();
  auto run = [](std::string_view bytes) {
    ResponseMeta meta;
    meta.model = "sonnet";
    meta.created_at = 1700000000;
    ResponsesStreamTranslator translator(meta, true);
    std::string out;
    Feed(bytes, [&](const sse::Event& event) { translator.OnEvent(event, out); });
    translator.OnUpstreamEnd(out);
    return out;
  };
  const std::string fast = run(wire);
  EXPECT_NE(fast.find("whole"), std::string::npos);
  EXPECT_EQ(fast, run(ForceSlowPath(wire)));
}

}  // namespace
}  // namespace claudegate::anthropic
