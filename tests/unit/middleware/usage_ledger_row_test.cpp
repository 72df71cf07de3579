// The usage ledger row of a finished request (middleware/usage_ledger.hpp): which requests get
// one, and what each field says, for a success, a fallback, an upstream failure and a local
// refusal — never content, client text bounded.
#include <gtest/gtest.h>

#include "claudegate/keys/price_table.hpp"
#include "claudegate/middleware/usage_ledger.hpp"

#include "support/recording_response_sink.hpp"

namespace claudegate::middleware {
namespace {

using testing::RecordingResponseSink;

constexpr std::int64_t kRowNowMs = 1'800'000'000'000;

struct FinishedRequest {
  FinishedRequest(http::verb method, std::string_view target) {
    request.method(method);
    request.target(target);
    request.version(11);
    request.body() = R"({"model":"sonnet","messages":[{"role":"user","content":"a secret"}]})";
  }
  server::Request request;
  RecordingResponseSink sink;
  server::RequestContext ctx{request, sink, "127.0.0.1:5555"};
  config::ModelCatalog models{config::ModelCatalog::DefaultAliases()};
};

TEST(UsageLedgerRow, OnlyPostsToModelRoutesGetARow) {
  const std::vector<std::tuple<http::verb, const char*, bool>> cases = {
      {http::verb::post, "/v1/chat/completions", true},
      {http::verb::post, "/chat/completions", true},
      {http::verb::post, "/v1/messages", true},
      {http::verb::post, "/v1/messages/count_tokens", true},
      {http::verb::post, "/v1/responses", true},
      {http::verb::post, "/responses/input_tokens?x=1", true},
      {http::verb::get, "/v1/responses", false},  // the WebSocket upgrade; its turns are POSTs
      {http::verb::get, "/v1/models", false},
      {http::verb::post, "/key/generate", false},
      {http::verb::get, "/usage/report", false},
      {http::verb::post, "/v1/chat/completions/extra", false},
  };
  for (const auto& [method, target, expected] : cases) {
    FinishedRequest call(method, target);
    EXPECT_EQ(IsModelRequest(call.ctx), expected) << target;
  }
}

TEST(UsageLedgerRow, ASuccessfulStreamedCall) {
  FinishedRequest call(http::verb::post, "/v1/chat/completions");
  auto& ctx = call.ctx;
  ctx.request_id = "req-1";
  ctx.key_token = std::string(64, 'a');
  ctx.key_label = "ci-bot";
  ctx.model = "sonnet";
  ctx.usage.input_tokens = 10;
  ctx.usage.output_tokens = 3;
  ctx.usage.cache_read_tokens = 1000;
  ctx.usage.cache_write_tokens = 50;
  ctx.usage.reported = true;
  ctx.usage.stream = true;
  ctx.usage.ttft_seconds = 0.25;
  ctx.usage.upstream_seconds = 0.1;
  ctx.usage.upstream_request_id = "req_011CUp";
  const auto row = UsageRowFor(ctx, {200, 512}, call.models, kRowNowMs);
  EXPECT_EQ(row.request_id, "req-1");
  EXPECT_EQ(row.key_token, std::string(64, 'a'));
  EXPECT_EQ(row.key_alias, "ci-bot");
  EXPECT_EQ(row.route, "/v1/chat/completions");
  EXPECT_EQ(row.model, "sonnet");
  EXPECT_EQ(row.model_used, call.models.Resolve("sonnet").value());
  EXPECT_TRUE(row.stream);
  EXPECT_EQ(row.input_tokens, 10);
  EXPECT_EQ(row.cache_read_tokens, 1000);
  EXPECT_DOUBLE_EQ(
      row.cost_usd,
      keys::CostUsd(row.model_used,
                    {.input = 10, .output = 3, .cache_write = 50, .cache_read = 1000}));
  EXPECT_GT(row.cost_usd, 0.0);
  EXPECT_EQ(row.status, 200);
  EXPECT_EQ(row.error, "");
  EXPECT_EQ(row.ttft_ms, 250);
  EXPECT_LE(row.time_ms, kRowNowMs);
  EXPECT_EQ(row.time_ms + row.latency_ms, kRowNowMs);
  EXPECT_EQ(row.upstream_request_id, "req_011CUp");
  EXPECT_EQ(row.retries, 0);
}

TEST(UsageLedgerRow, AFallbackIsTheModelUsed) {
  FinishedRequest call(http::verb::post, "/v1/messages");
  call.ctx.model = "opus";
  call.ctx.usage.reported = true;
  call.ctx.usage.fallback_model = "claude-sonnet-5-5";
  call.ctx.usage.retries = 3;
  const auto row = UsageRowFor(call.ctx, {200, 10}, call.models, kRowNowMs);
  EXPECT_EQ(row.model, "opus");
  EXPECT_EQ(row.model_used, "claude-sonnet-5-5");
  EXPECT_EQ(row.retries, 3);
  EXPECT_EQ(row.key_token, "");  // the master key
}

TEST(UsageLedgerRow, FailuresNameTheirKindAndCostNothing) {
  FinishedRequest overloaded(http::verb::post, "/v1/messages");
  overloaded.ctx.model = "sonnet";
  overloaded.ctx.usage.upstream_seconds = 0.5;
  overloaded.ctx.usage.upstream_error = "overloaded_error";
  auto row = UsageRowFor(overloaded.ctx, {529, 100}, overloaded.models, kRowNowMs);
  EXPECT_EQ(row.error, "overloaded_error");
  EXPECT_EQ(row.model_used, overloaded.models.Resolve("sonnet").value());
  EXPECT_EQ(row.cost_usd, 0.0);

  FinishedRequest refused(http::verb::post, "/v1/chat/completions");
  refused.ctx.details = "key_rpm_limit";
  row = UsageRowFor(refused.ctx, {429, 100}, refused.models, kRowNowMs);
  EXPECT_EQ(row.error, "key_rpm_limit");
  EXPECT_EQ(row.model_used, "");  // Anthropic was never called

  FinishedRequest plan(http::verb::post, "/v1/messages");
  plan.ctx.usage.refusal = "five_hour_limit";
  plan.ctx.usage.upstream_error = "rate_limit_error";
  EXPECT_EQ(UsageRowFor(plan.ctx, {429, 1}, plan.models, kRowNowMs).error, "five_hour_limit");

  FinishedRequest bare(http::verb::post, "/v1/messages");
  EXPECT_EQ(UsageRowFor(bare.ctx, {500, 1}, bare.models, kRowNowMs).error, "http_500");
}

TEST(UsageLedgerRow, ClientTextIsBoundedAndPrintable) {
  FinishedRequest call(http::verb::post, "/v1/chat/completions");
  call.ctx.model = std::string(1000, 'm') + "\n";
  call.ctx.model[3] = '\x01';
  const auto row = UsageRowFor(call.ctx, {400, 1}, call.models, kRowNowMs);
  EXPECT_EQ(row.model.size(), 128U);
  EXPECT_EQ(row.model[3], '?');
}

}  // namespace
}  // namespace claudegate::middleware
