#include "claudegate/middleware/key_limits.hpp"

#include <string>

#include "claudegate/anthropic/body_fields.hpp"
#include "claudegate/middleware/model_called.hpp"

namespace claudegate::middleware {
namespace {

// The model a request body asks for, from its top-level "model" (every route that calls a model
// has one); empty for bodies without it. Only the scan's linear pass, no parse: the route parses.
std::string RequestedModel(const server::RequestContext& ctx) {
  const std::string& body = ctx.request.body();
  if (body.empty() || body.front() != '{') {
    return {};
  }
  auto fields = anthropic::ScanBodyFields(body);
  if (!fields || !fields->model) {
    return {};
  }
  std::string model = std::move(*fields->model);
  // LiteLLM-style provider prefixes (`anthropic/claude-…`) name the same model.
  if (const auto slash = model.rfind('/'); slash != std::string::npos) {
    model.erase(0, slash + 1);
  }
  return model;
}

// The `key` label of the per-key series: the alias, or `none` (a key_name would make one series
// per key, however many were made without an alias).
std::string MetricsLabel(const server::RequestContext& ctx) {
  return ctx.key_label.starts_with("sk-") ? "none" : ctx.key_label;
}

}  // namespace

Awaitable<server::Outcome> KeyLimitsMiddleware::Handle(server::RequestContext& ctx,
                                                       Next next) const {
  if (ctx.key_token.empty() || ctx.Path().starts_with("/key/")) {
    // The master key has no limits; a key reading its own /key/info spends nothing.
    co_return co_await next(ctx);
  }
  // The body is scanned for its model only when the key's model list needs it: for a key that
  // may call every model the scan was most of this step's cost (docs/performance.md, "Virtual
  // keys and the usage ledger"); the route reads the model anyway.
  std::string requested;
  std::string resolved;
  if (keys_.RestrictsModels(ctx.key_token)) {
    requested = RequestedModel(ctx);
    resolved = models_.Resolve(requested).value_or(std::string());
  }
  const std::string label = MetricsLabel(ctx);
  if (auto refusal = keys_.Admit(ctx.key_token, requested, resolved)) {
    metrics_.key_requests.Add({label, refusal->details});
    server::HeaderList headers;
    if (refusal->retry_after) {
      headers.emplace_back("retry-after", std::to_string(*refusal->retry_after));
    }
    co_return co_await server::LocalReply(ctx, refusal->error, std::move(refusal->details),
                                          headers);
  }
  // Admitted: counted in flight until Finish, whatever happens below.
  server::Outcome outcome;
  try {
    outcome = co_await next(ctx);
  } catch (...) {
    keys_.Finish(ctx.key_token, resolved, {});
    throw;
  }
  const auto& usage = ctx.usage;
  keys_.Finish(ctx.key_token, ModelCalledFor(ctx, models_),
               {.input = usage.input_tokens,
                .output = usage.output_tokens,
                .cache_write = usage.cache_write_tokens,
                .cache_read = usage.cache_read_tokens});
  metrics_.key_requests.Add({label, "admitted"});
  if (usage.reported) {
    metrics_.key_tokens.Add({label, "input"}, static_cast<double>(usage.input_tokens));
    metrics_.key_tokens.Add({label, "output"}, static_cast<double>(usage.output_tokens));
    metrics_.key_tokens.Add({label, "cache_read"}, static_cast<double>(usage.cache_read_tokens));
    metrics_.key_tokens.Add({label, "cache_write"}, static_cast<double>(usage.cache_write_tokens));
  }
  co_return outcome;
}

}  // namespace claudegate::middleware
