/// @file unavailable_store.hpp
/// The store used when storing is off (`claudegate.store.enabled: false`) or the database could
/// not be opened: it keeps nothing, counts each Save as dropped, and answers every lookup with
/// kUnavailable (the route's 503, or a 404 where OpenAI would say "not found").
#pragma once

#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/store/response_store.hpp"

namespace claudegate::store {

class UnavailableResponseStore final : public ResponseStore {
 public:
  explicit UnavailableResponseStore(metrics::GatewayMetrics& metrics) : metrics_(metrics) {}

  void Save(StoredResponse response) override;
  Awaitable<Lookup<nlohmann::json>> Get(std::string id) override;
  Awaitable<Lookup<std::vector<nlohmann::json>>> Conversation(std::string id) override;
  Awaitable<Lookup<std::vector<nlohmann::json>>> Items(std::vector<std::string> ids) override;
  Awaitable<Lookup<ItemPage>> InputItems(std::string id, std::optional<std::string> after,
                                         std::size_t limit, ListOrder order) override;
  Awaitable<LookupStatus> Delete(std::string id) override;
  Awaitable<void> Flush() override;

 private:
  metrics::GatewayMetrics& metrics_;
};

}  // namespace claudegate::store
