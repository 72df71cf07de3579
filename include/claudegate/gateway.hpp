/// @file gateway.hpp
/// The assembled daemon: configuration, credential source, route handlers, the middleware
/// pipeline and the listener. `main()` and the in-process integration tests both build exactly
/// this object, so tests exercise the production wiring.
#pragma once

#include <functional>
#include <memory>

#include "claudegate/config/config.hpp"
#include "claudegate/credentials/credential_source.hpp"
#include "claudegate/error.hpp"
#include "claudegate/keys/key_registry.hpp"
#include "claudegate/ledger/usage_ledger.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/header_gate.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/server.hpp"
#include "claudegate/store/key_store.hpp"
#include "claudegate/store/response_store.hpp"
#include "claudegate/store/usage_store.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace claudegate {

class Gateway {
 public:
  /// `config` and `upstream` must outlive the gateway. The io_context may be run by several
  /// threads.
  Gateway(net::io_context& io, const config::Config& config,
          std::shared_ptr<credentials::CredentialSource> credentials,
          upstream::UpstreamClient& upstream);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /// Binds and starts serving; returns the bound endpoint (port 0 → the chosen port).
  [[nodiscard]] Result<tcp::endpoint> Start();

  /// See `server::Server::SpreadConnectionsOver()`; call before `Start()`.
  void SpreadConnectionsOver(std::vector<net::io_context*> workers) {
    server_->SpreadConnectionsOver(std::move(workers));
  }

  /// Graceful shutdown; `on_done` runs once when every connection has closed.
  void Shutdown(std::function<void()> on_done);

  [[nodiscard]] const server::Server& server() const { return *server_; }
  /// The process's metrics (also the plan state).
  [[nodiscard]] metrics::GatewayMetrics& metrics() { return *metrics_; }

  struct Handlers;  ///< The route handlers (defined in gateway.cpp).

 private:
  // Closes pooled upstream connections once idle past upstream.pool_idle_timeout, so that a pool
  // sized for the connection limit holds no descriptors when the gateway is idle.
  Awaitable<void> SweepIdleUpstreamConnections();
  // Opens the key store (null when off or failing) and loads its keys into keys_.
  std::shared_ptr<store::KeyStore> OpenKeyStore(const config::Config& config);

  const config::Config& config_;
  upstream::UpstreamClient& upstream_;
  Timer pool_sweep_;
  Timer key_sync_;      ///< Paces keys::KeepKeysInSync.
  Timer ledger_write_;  ///< Paces ledger::KeepLedgerWritten.
  std::shared_ptr<credentials::CredentialSource> credentials_;
  std::unique_ptr<metrics::GatewayMetrics> metrics_;
  /// Stored responses (null when turned off). Destroyed before the metrics it counts in, and with
  /// the gateway, after the io threads stopped (make_store.hpp).
  std::shared_ptr<store::ResponseStore> responses_store_;
  /// Virtual keys in memory (docs/keys.md), fed by key_store_ (null when the store is off).
  std::unique_ptr<keys::KeyRegistry> keys_;
  std::shared_ptr<store::KeyStore> key_store_;
  /// The usage ledger (docs/ledger.md): null when the store is off or failed to open.
  std::shared_ptr<store::UsageStore> usage_store_;
  std::unique_ptr<ledger::UsageLedger> ledger_;
  std::unique_ptr<Handlers> handlers_;
  const middleware::HeaderGate* gate_ = nullptr;  ///< The auth step of `pipeline_`.
  std::unique_ptr<middleware::Pipeline> pipeline_;
  std::unique_ptr<server::Server> server_;
};

}  // namespace claudegate
