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
#include "claudegate/http/connection_tracker.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/net.hpp"

namespace claudegate::server {

/// What every session of a server shares. Must outlive all sessions.
struct SessionDeps {
  const config::Limits* limits;
  const middleware::Pipeline* pipeline;
  ConnectionTracker* tracker;
  ssl::context* tls;  ///< Non-null when the listener speaks HTTPS.
};

/// Serves one accepted connection until it closes. The connection counts against the tracker's
/// limit until the coroutine ends; over the limit it gets a 503 and is closed.
Awaitable<void> RunSession(TcpStream stream, std::string peer, SessionDeps deps);

}  // namespace claudegate::server
