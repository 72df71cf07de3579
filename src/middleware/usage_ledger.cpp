#include "claudegate/middleware/usage_ledger.hpp"

#include <array>
#include <string_view>

#include "claudegate/keys/price_table.hpp"
#include "claudegate/middleware/model_called.hpp"

namespace claudegate::middleware {
namespace {

// What a row may hold of client-chosen text (a model name): enough for any real id, no more.
constexpr std::size_t kMaxLedgerText = 128;

std::string Bounded(std::string_view text) {
  std::string out(text.substr(0, kMaxLedgerText));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

// Why a request failed, as one bounded label: Anthropic's refusal kind, then its error type,
// then the reason claudegate answered itself; empty for a success.
std::string ErrorLabelOf(const server::RequestContext& ctx, unsigned status) {
  if (!ctx.usage.refusal.empty()) {
    return Bounded(ctx.usage.refusal);
  }
  if (!ctx.usage.upstream_error.empty()) {
    return Bounded(ctx.usage.upstream_error);
  }
  if (status < 400) {
    return {};
  }
  return ctx.details.empty() ? "http_" + std::to_string(status) : Bounded(ctx.details);
}

}  // namespace

namespace {

// The routes that call a model. Matched on the path, not ctx.route: a request that KeyLimits or
// the plan guard refused never reached the router that names its route.
constexpr std::array<std::string_view, 8> kModelRoutes = {
    "/v1/chat/completions",       "/chat/completions",      "/v1/messages",
    "/v1/messages/count_tokens",  "/v1/responses",          "/responses",
    "/v1/responses/input_tokens", "/responses/input_tokens"};

std::string_view ModelRouteOf(const server::RequestContext& ctx) {
  if (ctx.request.method() != http::verb::post) {
    return {};
  }
  for (const auto route : kModelRoutes) {
    if (ctx.Path() == route) {
      return route;
    }
  }
  return {};
}

}  // namespace

bool IsModelRequest(const server::RequestContext& ctx) { return !ModelRouteOf(ctx).empty(); }

store::UsageRecord UsageRowFor(const server::RequestContext& ctx, const server::Outcome& outcome,
                               const config::ModelCatalog& models, std::int64_t now_ms) {
  const auto& usage = ctx.usage;
  store::UsageRecord row;
  row.latency_ms = static_cast<std::int64_t>(ctx.ElapsedSeconds() * 1000.0);
  row.time_ms = now_ms - row.latency_ms;
  row.request_id = ctx.request_id;
  row.key_token = ctx.key_token;
  row.key_alias = ctx.key_label;
  row.route = std::string(ModelRouteOf(ctx));
  row.model = Bounded(ctx.model);
  // The model called (model_called.hpp), when Anthropic was reached at all.
  const bool called = usage.reported || usage.upstream_seconds.has_value();
  if (!usage.fallback_model.empty() || (called && !ctx.model.empty())) {
    row.model_used = Bounded(ModelCalledFor(ctx, models));
  }
  row.stream = usage.stream;
  if (usage.reported) {
    row.input_tokens = usage.input_tokens;
    row.output_tokens = usage.output_tokens;
    row.cache_read_tokens = usage.cache_read_tokens;
    row.cache_write_tokens = usage.cache_write_tokens;
    row.cost_usd = keys::CostUsd(row.model_used.empty() ? row.model : row.model_used,
                                 {.input = row.input_tokens,
                                  .output = row.output_tokens,
                                  .cache_write = row.cache_write_tokens,
                                  .cache_read = row.cache_read_tokens});
  }
  row.status = static_cast<int>(outcome.status);
  row.error = ErrorLabelOf(ctx, outcome.status);
  if (usage.ttft_seconds) {
    row.ttft_ms = static_cast<std::int64_t>(*usage.ttft_seconds * 1000.0);
  }
  row.upstream_request_id = usage.upstream_request_id;
  row.retries = usage.retries;
  return row;
}

Awaitable<server::Outcome> UsageLedgerMiddleware::Handle(server::RequestContext& ctx,
                                                         Next next) const {
  const server::Outcome outcome = co_await next(ctx);
  if (IsModelRequest(ctx)) {
    ledger_.Record(UsageRowFor(ctx, outcome, models_, now_()));
  }
  co_return outcome;
}

}  // namespace claudegate::middleware
