/// @file plan_guard.hpp
/// The opt-in plan guard (`claudegate.plan_guard.enabled`): when Anthropic last reported that the
/// plan limit is reached, or (with `refuse_overage`) that requests draw on paid extra usage, new
/// API requests get a 429 stating the reset time instead of reaching Anthropic.
#pragma once

#include "claudegate/config/config.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// Safe on any thread.
class PlanGuardMiddleware final : public Middleware {
 public:
  PlanGuardMiddleware(const config::PlanGuard& settings, metrics::GatewayMetrics& metrics)
      : settings_(settings), metrics_(metrics) {}
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;

 private:
  const config::PlanGuard& settings_;
  metrics::GatewayMetrics& metrics_;
};

}  // namespace claudegate::middleware
