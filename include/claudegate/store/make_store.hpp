/// @file make_store.hpp
/// Builds the process's ResponseStore from the configuration (docs/configuration.md, "The
/// store"): the SQLite store in the data directory, or, when the store is disabled or cannot be
/// opened (logged once), one that keeps nothing and answers kUnavailable, so the daemon always
/// starts and serves.
///
///     auto responses = store::MakeResponseStore(config, metrics);   // at start-up
///     responses->Save(std::move(turn));                             // after a reply, O(1)
///     auto found = co_await responses->Conversation(id);            // on any io thread
///
/// The store must be destroyed after the io threads have stopped (an awaiting coroutine must not
/// outlive it) and before `metrics`; its destructor writes the queued turns and closes the file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "claudegate/config/config.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/store/key_store.hpp"
#include "claudegate/store/response_store.hpp"
#include "claudegate/store/usage_store.hpp"

namespace claudegate::store {

/// Unix seconds now; injected so that tests of expiry never sleep.
using UnixClock = std::function<std::int64_t()>;

/// The system clock.
[[nodiscard]] UnixClock SystemUnixClock();

/// The database file inside the data directory.
[[nodiscard]] std::string DatabasePath(const config::Store& store);

[[nodiscard]] std::shared_ptr<ResponseStore> MakeResponseStore(const config::Config& config,
                                                               metrics::GatewayMetrics& metrics);

/// As above with a clock (tests).
[[nodiscard]] std::shared_ptr<ResponseStore> MakeResponseStore(const config::Store& store,
                                                               metrics::GatewayMetrics& metrics,
                                                               UnixClock now);

/// The key store in the same database (docs/keys.md) with every key it holds now, or null when
/// the store is turned off or has no data directory (virtual keys then answer 503; the master
/// key works) or cannot be opened (logged once).
struct OpenedKeyStore {
  std::shared_ptr<KeyStore> store;
  std::vector<KeyRecord> keys;
};
[[nodiscard]] OpenedKeyStore MakeKeyStore(const config::Store& store);

/// The usage ledger's store in the same database (docs/ledger.md), or null when the store is
/// turned off, has no data directory, or cannot be opened (logged once): requests are then
/// served and counted in /metrics, and the reports answer 503.
[[nodiscard]] std::shared_ptr<UsageStore> MakeUsageStore(const config::Store& store);

}  // namespace claudegate::store
