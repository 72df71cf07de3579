// Fuzzes sse::Decoder + translate::StreamTranslator with arbitrary upstream bytes.
//
// Input: byte 0 holds options (bit 0 include_usage, bit 1 forward_pings, bit 2 abort instead of a
// clean end, bits 3-7 seed the chunking); the rest is the upstream SSE wire. Checks:
// * nothing crashes, throws or trips ASan/UBSan;
// * the same wire cut into random chunks gives byte-identical output to one whole Feed()
//   (the decoder is split-safe, as the every-byte-split unit tests assert for the goldens);
// * every `data:` line the translator emits, except `[DONE]`, is valid JSON;
// * a decoder with a small event limit fails cleanly and stays failed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/stream/stream_translator.hpp"

#include "check_data_lines.hpp"

namespace {

using claudegate::sse::Decoder;
using claudegate::sse::Event;
using claudegate::translate::StreamOptions;
using claudegate::translate::StreamTranslator;

struct Run {
  std::string out;
  bool fed_ok = true;
};

Run Translate(std::string_view wire, std::uint8_t flags, bool split) {
  const StreamOptions options{"fuzz-model", 1700000000, (flags & 1U) != 0, (flags & 2U) != 0};
  Decoder decoder;
  StreamTranslator translator(options);
  Run run;
  auto on_event = [&](const Event& event) { translator.OnEvent(event, run.out); };
  if (!split) {
    run.fed_ok = decoder.Feed(wire, on_event).has_value();
  } else {
    std::uint32_t state = 0x9e3779b9U ^ (flags >> 3U);
    while (!wire.empty() && run.fed_ok) {
      state = state * 1664525U + 1013904223U;
      const std::size_t n = std::min<std::size_t>(wire.size(), 1 + (state >> 24U) % 17U);
      run.fed_ok = decoder.Feed(wire.substr(0, n), on_event).has_value();
      wire.remove_prefix(n);
    }
  }
  if ((flags & 4U) != 0) {
    translator.Abort("upstream_error", "fuzz abort \"quoted\"", run.out);
  } else {
    translator.OnUpstreamEnd(run.out);
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t flags = data[0];
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);

  const Run whole = Translate(wire, flags, false);
  const Run split = Translate(wire, flags, true);
  if (whole.out != split.out || whole.fed_ok != split.fed_ok) {
    std::fprintf(stderr, "split changed the output\n--- whole\n%s\n--- split\n%s\n",
                 whole.out.c_str(), split.out.c_str());
    std::abort();
  }
  claudegate::fuzzing::CheckDataLinesAreJson(whole.out);

  // A tight event limit: the decoder must refuse, stay refused, and never buffer past it by much.
  Decoder small(64);
  bool failed = false;
  for (std::size_t i = 0; i < wire.size(); i += 7) {
    const auto fed = small.Feed(wire.substr(i, 7), [](const Event&) {});
    if (!fed.has_value()) {
      failed = true;
    } else if (failed) {
      std::fprintf(stderr, "decoder recovered after failing\n");
      std::abort();
    }
  }
  return 0;
}
