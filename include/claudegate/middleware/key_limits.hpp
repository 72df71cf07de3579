/// @file key_limits.hpp
/// A virtual key's limits on each request it makes (docs/keys.md): the models it may call, its
/// budget, parallel requests, requests and tokens per minute. A refusal is answered in the route's
/// own error shape (429 with Retry-After for limits, 403 for a model it may not use). After the
/// reply the request's tokens and cost are charged to the key. Requests with the master key pass
/// untouched. Runs after AuthMiddleware, which identified the key from the header.
#pragma once

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/keys/key_registry.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

class KeyLimitsMiddleware final : public Middleware {
 public:
  /// All three must outlive the middleware.
  KeyLimitsMiddleware(keys::KeyRegistry& keys, const config::ModelCatalog& models,
                      metrics::GatewayMetrics& metrics)
      : keys_(keys), models_(models), metrics_(metrics) {}
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;

 private:
  keys::KeyRegistry& keys_;
  const config::ModelCatalog& models_;
  metrics::GatewayMetrics& metrics_;
};

}  // namespace claudegate::middleware
