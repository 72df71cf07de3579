// The streaming hot path: upstream SSE bytes → sse::Decoder → StreamTranslator → client bytes,
// and the non-streaming variant (Decoder → MessageAccumulator → ToOpenAi).
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/chat_response.hpp"
#include "claudegate/translate/response/message_accumulator.hpp"
#include "claudegate/translate/stream/stream_translator.hpp"

#include "bench_data.hpp"

namespace claudegate::translate {
namespace {

constexpr std::int64_t kCreated = 1700000000;

// Arg: the transcript. 0 = bench/data/upstream_stream.sse (16 text deltas, the load harness's
// canned upstream body); the others come from tests/data/sse.
std::string Transcript(std::int64_t which) {
  static const std::vector<std::string> kNames = {"", "text.sse", "tool_use.sse", "thinking.sse"};
  if (which == 0) {
    return bench::BenchData("upstream_stream.sse");
  }
  return bench::TestData("sse/" + kNames.at(static_cast<std::size_t>(which)));
}

void SetLabel(benchmark::State& state) {
  static const std::vector<std::string> kLabels = {"bench_stream", "text", "tool_use", "thinking"};
  state.SetLabel(kLabels.at(static_cast<std::size_t>(state.range(0))));
}

// The decoder alone, fed the whole transcript in one chunk.
void BM_SseDecode(benchmark::State& state) {
  const std::string wire = Transcript(state.range(0));
  std::size_t events = 0;
  for (auto _ : state) {
    sse::Decoder decoder;
    auto fed = decoder.Feed(wire, [&](const sse::Event& event) {
      benchmark::DoNotOptimize(event.data.data());
      ++events;
    });
    benchmark::DoNotOptimize(fed);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
  state.counters["events"] =
      benchmark::Counter(static_cast<double>(events) / static_cast<double>(state.iterations()));
  SetLabel(state);
}
BENCHMARK(BM_SseDecode)->DenseRange(0, 3);

// Decoder + StreamTranslator, as the streamed chat route runs them per upstream read. The
// transcript is cut into 512-byte reads to resemble TLS records arriving over time.
void BM_StreamTranslate(benchmark::State& state) {
  const std::string wire = Transcript(state.range(0));
  constexpr std::size_t kRead = 512;
  std::string out;
  for (auto _ : state) {
    sse::Decoder decoder;
    StreamTranslator translator(StreamOptions{"sonnet", kCreated, false, true});
    out.clear();
    for (std::size_t at = 0; at < wire.size(); at += kRead) {
      auto fed = decoder.Feed(std::string_view(wire).substr(at, kRead),
                              [&](const sse::Event& event) { translator.OnEvent(event, out); });
      benchmark::DoNotOptimize(fed);
    }
    translator.OnUpstreamEnd(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
  SetLabel(state);
}
BENCHMARK(BM_StreamTranslate)->DenseRange(0, 3);

// Decoder + MessageAccumulator + ToOpenAi + dump: the non-streaming chat route (which always
// streams upstream and accumulates).
void BM_AccumulateToOpenAi(benchmark::State& state) {
  const std::string wire = Transcript(state.range(0));
  for (auto _ : state) {
    sse::Decoder decoder;
    MessageAccumulator accumulator;
    auto fed = decoder.Feed(wire, [&](const sse::Event& event) { accumulator.OnEvent(event); });
    benchmark::DoNotOptimize(fed);
    auto message = accumulator.TakeMessage();
    if (message) {
      auto reply = ToOpenAi(*message, "sonnet", kCreated);
      std::string body = reply ? reply->body.dump() : std::string();
      benchmark::DoNotOptimize(body);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
  SetLabel(state);
}
BENCHMARK(BM_AccumulateToOpenAi)->DenseRange(0, 3);

}  // namespace
}  // namespace claudegate::translate
