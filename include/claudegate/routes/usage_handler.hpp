/// @file usage_handler.hpp
/// The usage ledger's reports (docs/ledger.md), master key only:
///   - `GET /usage/report`: sums per hour/day/5-hour block, model, key (JSON or CSV);
///   - `GET /usage/logs`: the rows themselves, newest first, paged (JSON or CSV);
///   - `GET /spend/logs` and `GET /global/spend/report`: LiteLLM's shapes for the seed's scripts.
/// Each first writes the rows still queued, so a report includes every request whose row was
/// recorded (as its reply finished) before it was asked for. Errors in OpenAI's (LiteLLM's) shape:
/// 400 naming the bad parameter, 403 for a virtual key, 503 without a store.
#pragma once

#include <memory>

#include "claudegate/ledger/usage_ledger.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/store/usage_store.hpp"

namespace claudegate::routes {

class UsageHandler {
 public:
  /// `store` is null when the store is off (then `ledger` may be null too); `ledger` must outlive
  /// the handler.
  UsageHandler(std::shared_ptr<store::UsageStore> store, ledger::UsageLedger* ledger,
               ledger::MillisClock now)
      : store_(std::move(store)), ledger_(ledger), now_(std::move(now)) {}

  Awaitable<server::Outcome> Report(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> Logs(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> SpendLogs(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> GlobalSpendReport(server::RequestContext& ctx) const;

 private:
  // Refuses a virtual key or a missing store; else writes the queued rows. nullopt: go on.
  Awaitable<std::optional<server::Outcome>> Admit(server::RequestContext& ctx) const;

  std::shared_ptr<store::UsageStore> store_;
  ledger::UsageLedger* ledger_;
  ledger::MillisClock now_;
};

}  // namespace claudegate::routes
