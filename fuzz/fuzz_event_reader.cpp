// Fuzzes anthropic::EventReader, the one reader of Anthropic's stream grammar, and the stream
// consumers built on it, with arbitrary upstream bytes.
//
// Input: byte 0 holds options (bit 0 forward_pings, bit 1 abort instead of a clean end); the rest
// is the upstream SSE wire. Checks:
// * nothing crashes, throws or trips ASan/UBSan in the reader, the Responses translator or the
//   usage watcher (StreamTranslator has fuzz_sse_stream);
// * the fast path agrees with the full parse: every event whose data starts `{"type"` is read
//   again with the key escaped (`{"\u0074ype"`, the same JSON to a parser, which the scanner
//   declines), and must give the same typed event;
// * every `data:` line of the Responses output is valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/event_reader.hpp"
#include "claudegate/anthropic/usage_watcher.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/stream/responses_stream.hpp"

#include "check_data_lines.hpp"

namespace {

using claudegate::anthropic::BlockStart;
using claudegate::anthropic::BlockStop;
using claudegate::anthropic::Delta;
using claudegate::anthropic::ErrorEvent;
using claudegate::anthropic::EventReader;
using claudegate::anthropic::EventVisitor;
using claudegate::anthropic::MessageDelta;
using claudegate::anthropic::MessageStart;
using claudegate::anthropic::UnknownEvent;
using claudegate::sse::Decoder;
using claudegate::sse::Event;

std::string Opt(const std::optional<std::string_view>& v) {
  return v ? "\"" + std::string(*v) + "\"" : "-";
}
std::string Opt(const std::optional<std::size_t>& v) { return v ? std::to_string(*v) : "-"; }

// A text form of each typed event, without what differs by path (the DOM pointer of a delta).
class Recorder : public EventVisitor {
 public:
  std::string log;
  void OnMessageStart(const MessageStart& e) override {
    log += "ms " + Opt(e.id) + Opt(e.model) + "\n";
  }
  void OnBlockStart(const BlockStart& e) override {
    log += "bs " + Opt(e.index) + std::to_string(static_cast<int>(e.type)) + Opt(e.text) + "\n";
  }
  void OnDelta(const Delta& e) override {
    log += "d " + Opt(e.index) + std::to_string(static_cast<int>(e.kind)) + "\"" +
           std::string(e.value) + "\"\n";
  }
  void OnBlockStop(const BlockStop& e) override { log += "bx " + Opt(e.index) + "\n"; }
  void OnMessageDelta(const MessageDelta& e) override { log += "md " + Opt(e.stop_reason) + "\n"; }
  void OnMessageStop() override { log += "mx\n"; }
  void OnError(const ErrorEvent& e) override { log += "e " + Opt(e.type) + Opt(e.message) + "\n"; }
  void OnPing() override { log += "p\n"; }
  void OnUnknown(const UnknownEvent& e) override { log += "u " + std::string(e.type) + "\n"; }
  void OnMalformed(std::string_view name) override { log += "x " + std::string(name) + "\n"; }
};

void CheckFastPathAgrees(const Event& event) {
  constexpr std::string_view kPlain = R"({"type")";
  if (!std::string_view(event.data).starts_with(kPlain)) {
    return;
  }
  Event escaped = event;
  escaped.data.replace(0, kPlain.size(), R"({"\u0074ype")");
  // Fresh readers: the surrogate half one of them may hold must not leak into the other.
  EventReader plain_reader;
  EventReader escaped_reader;
  Recorder plain;
  Recorder slow;
  plain_reader.Read(event, plain);
  escaped_reader.Read(escaped, slow);
  if (plain.log != slow.log) {
    std::fprintf(stderr, "fast path and full parse disagree\n--- fast\n%s--- full\n%s",
                 plain.log.c_str(), slow.log.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t flags = data[0];
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);

  claudegate::translate::ResponseMeta meta;
  meta.model = "fuzz-model";
  meta.created_at = 1700000000;
  claudegate::translate::ResponsesStreamTranslator responses(meta, (flags & 1U) != 0);
  claudegate::anthropic::UsageWatcher watcher;
  EventReader reader;
  Recorder recorder;
  std::string out;
  Decoder decoder;
  (void)decoder.Feed(wire, [&](const Event& event) {
    reader.Read(event, recorder);
    CheckFastPathAgrees(event);
    responses.OnEvent(event, out);
    watcher.OnEvent(event);
  });
  if ((flags & 2U) != 0) {
    responses.Abort("upstream_error", "fuzz abort \"quoted\"", out);
  } else {
    responses.OnUpstreamEnd(out);
  }
  (void)reader.TakeLoneHighSurrogate();
  claudegate::fuzzing::CheckDataLinesAreJson(out);
  return 0;
}
