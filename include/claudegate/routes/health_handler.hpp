/// @file health_handler.hpp
/// LiteLLM's probe paths: `/health/liveliness` (and `/health/liveness`) say the process serves;
/// `/health/readiness` is 200 only with usable Claude credentials, else 503 with a coarse reason
/// (no path, expiry or error text: it needs no key);
/// `/health` (behind the key) reports credential and upstream state in detail.
#pragma once

#include <chrono>

#include "claudegate/config/config.hpp"
#include "claudegate/credentials/credential_source.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/middleware.hpp"

namespace claudegate::routes {

/// Stateless apart from the start time; safe on any thread.
class HealthHandler {
 public:
  HealthHandler(const config::Config& config, const credentials::CredentialSource& credentials,
                metrics::GatewayMetrics& metrics)
      : config_(config), credentials_(credentials), metrics_(metrics) {}

  Awaitable<server::Outcome> Liveness(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> Readiness(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> Detailed(server::RequestContext& ctx) const;
  /// `GET /metrics`: the Prometheus exposition. `open_connections` is read at scrape time.
  Awaitable<server::Outcome> Metrics(server::RequestContext& ctx,
                                     std::size_t open_connections) const;

 private:
  /// Base URL plus the latest upstream outcome (reachability as last observed; no probe traffic).
  [[nodiscard]] nlohmann::json Upstream() const;

  const config::Config& config_;
  const credentials::CredentialSource& credentials_;
  metrics::GatewayMetrics& metrics_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace claudegate::routes
