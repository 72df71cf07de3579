/// @file usage_ledger.hpp
/// Writes one usage ledger row per model request (docs/ledger.md) once its reply has finished:
/// who asked (the key), for what (route, model asked and model used), what it cost (tokens, USD
/// at list prices), and how it went (status, error kind, latency, TTFT, Anthropic's request id,
/// retries) — never content. Runs after AuthMiddleware, so requests without a valid key cost
/// nothing here, and before KeyLimits and the plan guard, so their refusals are rows too.
#pragma once

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/ledger/usage_ledger.hpp"
#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// The ledger row of a finished request (pure; `now_ms` is the time the reply finished).
[[nodiscard]] store::UsageRecord UsageRowFor(const server::RequestContext& ctx,
                                             const server::Outcome& outcome,
                                             const config::ModelCatalog& models,
                                             std::int64_t now_ms);

/// True for the requests that get a row: POSTs to the routes that call a model.
[[nodiscard]] bool IsModelRequest(const server::RequestContext& ctx);

class UsageLedgerMiddleware final : public Middleware {
 public:
  /// Both must outlive the middleware.
  UsageLedgerMiddleware(ledger::UsageLedger& ledger, const config::ModelCatalog& models,
                        ledger::MillisClock now)
      : ledger_(ledger), models_(models), now_(std::move(now)) {}
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;

 private:
  ledger::UsageLedger& ledger_;
  const config::ModelCatalog& models_;
  ledger::MillisClock now_;
};

}  // namespace claudegate::middleware
