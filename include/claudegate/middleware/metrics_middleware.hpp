/// @file metrics_middleware.hpp
/// Records every request in the Prometheus metrics after it finished (streamed or not): count by
/// route/model/status class, duration, time to first token, tokens by model, in-flight gauge.
#pragma once

#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// Safe on any thread (the metrics are).
class MetricsMiddleware final : public Middleware {
 public:
  explicit MetricsMiddleware(metrics::GatewayMetrics& metrics) : metrics_(metrics) {}
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;

 private:
  metrics::GatewayMetrics& metrics_;
};

}  // namespace claudegate::middleware
