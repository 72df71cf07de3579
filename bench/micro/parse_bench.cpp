// What-if benchmarks behind the fix suggestions in docs/performance.md: they measure the cost of
// the building blocks the hot path uses today against a cheaper alternative, on the same input.
#include <cstring>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "claudegate/anthropic/block_delta_scan.hpp"

#include "bench_data.hpp"

namespace claudegate::bench {
namespace {

constexpr std::string_view kDeltaData =
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"million people "}})";

// StreamTranslator::OnEvent today: a full DOM parse of every event's data.
void BM_DeltaDomParse(benchmark::State& state) {
  for (auto _ : state) {
    auto data = nlohmann::json::parse(kDeltaData, nullptr, false);
    benchmark::DoNotOptimize(data);
  }
}
BENCHMARK(BM_DeltaDomParse);

// The same bytes through nlohmann's SAX interface, keeping only what a delta needs.
struct DeltaSax : nlohmann::json_sax<nlohmann::json> {
  int depth = 0;
  std::string current_key;
  std::string type;
  std::string delta_type;
  std::string text;
  std::int64_t index = -1;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override {
    return number_unsigned(static_cast<number_unsigned_t>(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (depth == 1 && current_key == "index") {
      index = static_cast<std::int64_t>(v);
    }
    return true;
  }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& v) override {
    if (depth == 1 && current_key == "type") {
      type = std::move(v);
    } else if (depth == 2 && current_key == "type") {
      delta_type = std::move(v);
    } else if (depth == 2 && current_key == "text") {
      text = std::move(v);
    }
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++depth;
    return true;
  }
  bool key(string_t& k) override {
    current_key = std::move(k);
    return true;
  }
  bool end_object() override {
    --depth;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth;
    return true;
  }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

void BM_DeltaSaxParse(benchmark::State& state) {
  for (auto _ : state) {
    DeltaSax sax;
    const bool ok = nlohmann::json::sax_parse(kDeltaData, &sax);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(sax.text.data());
  }
}
BENCHMARK(BM_DeltaSaxParse);

// The fast path the translators use now: a validating scanner for this one event shape.
void BM_DeltaScan(benchmark::State& state) {
  std::string scratch;
  for (auto _ : state) {
    anthropic::BlockDelta delta;
    const bool ok = anthropic::ScanBlockDelta(kDeltaData, scratch, delta);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(delta.value.data());
  }
}
BENCHMARK(BM_DeltaScan);

// sse::Decoder finds line ends with string_view::find_first_of("\r\n"), which libstdc++ runs as
// a per-byte search of the two-character set; memchr for '\n' (then for '\r' only before it) is
// vectorised. Both variants count the lines of the canned upstream stream.
std::size_t CountLinesFindFirstOf(std::string_view s) {
  std::size_t lines = 0;
  for (std::size_t pos = s.find_first_of("\r\n"); pos != std::string_view::npos;
       pos = s.find_first_of("\r\n")) {
    ++lines;
    s.remove_prefix(pos + 1);
  }
  return lines;
}

std::size_t CountLinesMemchr(std::string_view s) {
  std::size_t lines = 0;
  for (;;) {
    const void* lf = std::memchr(s.data(), '\n', s.size());
    std::size_t pos = lf == nullptr ? s.size() : static_cast<const char*>(lf) - s.data();
    if (const void* cr = std::memchr(s.data(), '\r', pos); cr != nullptr) {
      pos = static_cast<const char*>(cr) - s.data();
    }
    if (pos == s.size()) {
      return lines;
    }
    ++lines;
    s.remove_prefix(pos + 1);
  }
}

void BM_LineSplitFindFirstOf(benchmark::State& state) {
  const std::string wire = BenchData("upstream_stream.sse");
  for (auto _ : state) {
    benchmark::DoNotOptimize(CountLinesFindFirstOf(wire));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_LineSplitFindFirstOf);

void BM_LineSplitMemchr(benchmark::State& state) {
  const std::string wire = BenchData("upstream_stream.sse");
  for (auto _ : state) {
    benchmark::DoNotOptimize(CountLinesMemchr(wire));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_LineSplitMemchr);

}  // namespace
}  // namespace claudegate::bench
