#include "claudegate/store/unavailable_store.hpp"

#include "claudegate/store/write_outcome.hpp"

namespace claudegate::store {

void UnavailableResponseStore::Save(StoredResponse /*response*/) {
  metrics_.store_writes.Add({std::string(Label(WriteOutcome::kDropped))});
}

Awaitable<Lookup<nlohmann::json>> UnavailableResponseStore::Get(std::string /*id*/) {
  Lookup<nlohmann::json> result;
  result.status = LookupStatus::kUnavailable;
  co_return result;
}

Awaitable<Lookup<std::vector<nlohmann::json>>> UnavailableResponseStore::Conversation(
    std::string /*id*/) {
  Lookup<std::vector<nlohmann::json>> result;
  result.status = LookupStatus::kUnavailable;
  co_return result;
}

Awaitable<Lookup<std::vector<nlohmann::json>>> UnavailableResponseStore::Items(
    std::vector<std::string> /*ids*/) {
  Lookup<std::vector<nlohmann::json>> result;
  result.status = LookupStatus::kUnavailable;
  co_return result;
}

Awaitable<Lookup<ItemPage>> UnavailableResponseStore::InputItems(
    std::string /*id*/, std::optional<std::string> /*after*/, std::size_t /*limit*/,
    ListOrder /*order*/) {
  Lookup<ItemPage> result;
  result.status = LookupStatus::kUnavailable;
  co_return result;
}

Awaitable<LookupStatus> UnavailableResponseStore::Delete(std::string /*id*/) {
  co_return LookupStatus::kUnavailable;
}

Awaitable<void> UnavailableResponseStore::Flush() { co_return; }

}  // namespace claudegate::store
