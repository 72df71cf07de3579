// Request and whole-response translation: the per-request work of the chat route besides I/O.
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/translate/request/chat_request.hpp"
#include "claudegate/translate/response/chat_response.hpp"

#include "bench_data.hpp"

namespace claudegate::translate {
namespace {

constexpr std::int64_t kCreated = 1700000000;

const config::ModelCatalog& Catalog() {
  static const config::ModelCatalog kCatalog(config::ModelCatalog::DefaultAliases());
  return kCatalog;
}

// ToAnthropic on an already parsed body: the translator alone.
void BM_ToAnthropic(benchmark::State& state) {
  const auto request = nlohmann::json::parse(bench::BenchData("chat_request.json"));
  TranslateOptions options;
  options.models = &Catalog();
  for (auto _ : state) {
    auto translated = ToAnthropic(request, options);
    benchmark::DoNotOptimize(translated);
  }
}
BENCHMARK(BM_ToAnthropic);

// What the handler does per request: parse the client body, translate, serialise upstream body.
void BM_ParseToAnthropicDump(benchmark::State& state) {
  const std::string body = bench::BenchData("chat_request.json");
  TranslateOptions options;
  options.models = &Catalog();
  for (auto _ : state) {
    const auto request = nlohmann::json::parse(body);
    auto translated = ToAnthropic(request, options);
    std::string upstream_body = translated->body.dump();
    benchmark::DoNotOptimize(upstream_body);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseToAnthropicDump);

// ToOpenAi on a parsed Anthropic message (non-streaming reply), plus the client-body dump.
void BM_ToOpenAi(benchmark::State& state) {
  const auto message = nlohmann::json::parse(bench::BenchData("upstream_message.json"));
  for (auto _ : state) {
    auto reply = ToOpenAi(message, "sonnet", kCreated);
    std::string body = reply->body.dump();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_ToOpenAi);

// A larger reply with text and tool calls, from the golden corpus.
void BM_ToOpenAiTextAndTools(benchmark::State& state) {
  const auto message =
      nlohmann::json::parse(bench::TestData("translate/responses/text_and_tools.anthropic.json"));
  for (auto _ : state) {
    auto reply = ToOpenAi(message, "sonnet", kCreated);
    std::string body = reply->body.dump();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_ToOpenAiTextAndTools);

}  // namespace
}  // namespace claudegate::translate
