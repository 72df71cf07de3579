/// @file server.hpp
/// The listener: binds, accepts each connection onto its own strand and runs a session on it, and
/// shuts down gracefully (stop accepting, close idle connections, let in-flight requests finish
/// within the grace period, then close the rest).
///
/// Construct and call `Listen()` from one thread; `Shutdown()` may be called from any thread.
/// The io_context may be run by any number of threads; then every connection gets a strand. With
/// `SpreadConnectionsOver()`, connections are instead dealt round-robin to io_contexts that are
/// each run by one thread, so a connection never crosses threads and needs no strand.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "claudegate/config/config.hpp"
#include "claudegate/error.hpp"
#include "claudegate/middleware/client_address.hpp"
#include "claudegate/middleware/header_gate.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/body_budget.hpp"
#include "claudegate/server/connection_tracker.hpp"

namespace claudegate::server {

class Server {
 public:
  /// `config`, `pipeline` and `gate` must outlive the server. `gate` decides about each request
  /// from its header before the body is read (see header_gate.hpp); nullptr reads every body.
  Server(net::io_context& io, const config::Config& config, const middleware::Pipeline& pipeline,
         const middleware::HeaderGate* gate = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds `config.host:config.port` (port 0 picks a free one), loads the listener certificate
  /// when TLS is configured, and starts accepting. Returns the bound endpoint.
  /// Errors: kInvalidRequest for a bad address or certificate, kInternal when the bind fails.
  [[nodiscard]] Result<tcp::endpoint> Listen();

  /// Call before `Listen()`. Each of `workers` must be run by exactly one thread and outlive the
  /// server; the listener's own io_context may be one of them.
  void SpreadConnectionsOver(std::vector<net::io_context*> workers) {
    workers_ = std::move(workers);
  }

  /// Graceful shutdown. `on_done` runs once, on some io thread, when every connection is closed
  /// (immediately when none are open; by force after the configured grace).
  void Shutdown(std::function<void()> on_done);

  [[nodiscard]] std::size_t active_connections() const { return tracker_.active(); }
  /// Request body bytes held right now across all connections (see body_budget.hpp).
  [[nodiscard]] std::size_t body_bytes_in_flight() const { return body_budget_.in_use(); }

 private:
  Awaitable<void> AcceptLoop();
  Awaitable<std::tuple<error_code, tcp::socket>> AcceptNext();

  net::io_context& io_;
  const config::Config& config_;
  const middleware::Pipeline& pipeline_;
  const middleware::HeaderGate* gate_;
  middleware::TrustedProxies trusted_proxies_;  // exempt from the per-client connection limit
  ConnectionTracker tracker_;
  BodyBudget body_budget_;
  std::unique_ptr<ssl::context> tls_;
  Acceptor acceptor_;
  Timer grace_timer_;
  Timer accept_pause_;  // the accept loop's pause after EMFILE and friends
  std::vector<net::io_context*> workers_;
  std::size_t next_worker_ = 0;
};

/// Runs what is left ready on `contexts` after their threads have stopped, listener's first, so
/// that no completed operation is destroyed with its io_context. Needed because the listener's
/// pending accept holds a socket made for a worker's io_context: destroyed with the listener's
/// context after the worker's, it would touch the freed worker (found by ASan at exit). Call
/// after joining the io threads, while the gateway still exists.
void DrainStoppedContexts(const std::vector<net::io_context*>& contexts);

}  // namespace claudegate::server
