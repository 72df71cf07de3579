#include "claudegate/middleware/plan_guard.hpp"

namespace claudegate::middleware {
namespace {

// Only calls that would spend plan usage are guarded; models, health and metrics stay available.
bool SpendsUsage(std::string_view path) {
  return path.ends_with("/chat/completions") || path.starts_with("/v1/messages") ||
         path.ends_with("/responses");
}

}  // namespace

Awaitable<server::Outcome> PlanGuardMiddleware::Handle(server::RequestContext& ctx,
                                                       Next next) const {
  if (!settings_.enabled || !SpendsUsage(ctx.Path())) {
    co_return co_await next(ctx);
  }
  auto refusal = metrics_.plan.Refusal(std::chrono::system_clock::now(), settings_.refuse_overage);
  if (!refusal) {
    co_return co_await next(ctx);
  }
  const std::string kind(anthropic::Label(refusal->kind));
  metrics_.plan_refusals.Add({kind});
  server::HeaderList headers;
  headers.emplace_back("x-should-retry", "false");  // retrying before the reset cannot help
  headers.emplace_back(std::string(anthropic::kRefusalHeader), kind);
  if (refusal->retry_after > 0) {
    headers.emplace_back("retry-after", std::to_string(refusal->retry_after));
  }
  const Error error(ErrorKind::kRateLimited, refusal->message, {}, "plan_guard");
  co_return co_await server::LocalReply(ctx, error, "plan_guard", headers);
}

}  // namespace claudegate::middleware
