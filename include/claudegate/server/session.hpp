/// @file session.hpp
/// One client connection: reads requests one at a time (so pipelined requests are answered in
/// order), enforces the listener limits before any middleware runs, runs the pipeline, and keeps
/// the connection alive between requests.
///
/// Runs on the connection's own strand. Cancellation: the connection tracker's closer closes idle
/// connections at shutdown and every connection after the grace period. While a handler runs, the
/// session watches the socket: if the client goes away, the handler is cancelled at once so that
/// its upstream request is closed too.
#pragma once

#include <memory>
#include <string>

#include "claudegate/config/config.hpp"
#include "claudegate/middleware/client_address.hpp"
#include "claudegate/middleware/header_gate.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/body_budget.hpp"
#include "claudegate/server/connection_tracker.hpp"

namespace claudegate::server {

/// What every session of a server shares. Must outlive all sessions.
struct SessionDeps {
  const config::Limits* limits;
  const middleware::Pipeline* pipeline;
  ConnectionTracker* tracker;
  ssl::context* tls;  ///< Non-null when the listener speaks HTTPS.
  /// Asked after each header, before `100 Continue` or any body byte; nullptr reads every body.
  const middleware::HeaderGate* gate = nullptr;
  BodyBudget* body_budget = nullptr;  ///< Bounds the body bytes held across sessions; may be null.
  /// Peers exempt from the per-client connection limit; may be null.
  const middleware::TrustedProxies* trusted_proxies = nullptr;
};

/// Serves one accepted connection until it closes. The connection counts against the tracker's
/// limits (total and per peer address) until the coroutine ends; over them it gets a 503 and is
/// closed. It is evictable while it holds no request the gate let through for its body.
Awaitable<void> RunSession(TcpStream stream, std::string peer, SessionDeps deps);

}  // namespace claudegate::server
