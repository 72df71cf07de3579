#include "claudegate/store/make_store.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "claudegate/store/sqlite/sqlite_key_store.hpp"
#include "claudegate/store/sqlite/sqlite_response_store.hpp"
#include "claudegate/store/sqlite/sqlite_usage_store.hpp"
#include "claudegate/store/unavailable_store.hpp"

namespace claudegate::store {

UnixClock SystemUnixClock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

std::string DatabasePath(const config::Store& store) { return store.data_dir + "/claudegate.db"; }

std::shared_ptr<ResponseStore> MakeResponseStore(const config::Config& config,
                                                 metrics::GatewayMetrics& metrics) {
  return MakeResponseStore(config.store, metrics, SystemUnixClock());
}

std::shared_ptr<ResponseStore> MakeResponseStore(const config::Store& store,
                                                 metrics::GatewayMetrics& metrics, UnixClock now) {
  if (!store.enabled) {
    spdlog::info("stored responses are off (claudegate.store.enabled: false)");
    return std::make_shared<UnavailableResponseStore>(metrics);
  }
  std::string error;
  if (auto sqlite = sqlite::SqliteResponseStore::Open(store, metrics, std::move(now), error)) {
    spdlog::info("stored responses: {}", DatabasePath(store));
    return sqlite;
  }
  spdlog::error(
      "stored responses are unavailable: {}. claudegate serves without them: previous_response_id "
      "and GET /v1/responses/{{id}} answer 503 until the cause is fixed and claudegate restarted "
      "(docs/configuration.md, \"The store\")",
      error);
  return std::make_shared<UnavailableResponseStore>(metrics);
}

OpenedKeyStore MakeKeyStore(const config::Store& store) {
  if (!store.enabled || store.data_dir.empty()) {
    return {};
  }
  std::string error;
  auto sqlite = sqlite::SqliteKeyStore::Open(store, error);
  if (!sqlite) {
    spdlog::error(
        "virtual keys are unavailable: {}. The master key keeps working; /key/* answers 503 "
        "until the cause is fixed and claudegate restarted (docs/keys.md)",
        error);
    return {};
  }
  try {
    auto keys = sqlite->AllNow();
    return {std::move(sqlite), std::move(keys)};
  } catch (const std::exception& e) {
    spdlog::error("virtual keys are unavailable: reading them failed: {}", e.what());
    return {};
  }
}

std::shared_ptr<UsageStore> MakeUsageStore(const config::Store& store) {
  if (!store.enabled || store.data_dir.empty()) {
    return nullptr;
  }
  std::string error;
  auto sqlite = sqlite::SqliteUsageStore::Open(store, error);
  if (!sqlite) {
    spdlog::error(
        "the usage ledger is unavailable: {}. Requests are served and counted in /metrics; the "
        "usage reports answer 503 until the cause is fixed and claudegate restarted "
        "(docs/ledger.md)",
        error);
  }
  return sqlite;
}

}  // namespace claudegate::store
