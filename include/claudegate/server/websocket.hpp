/// @file websocket.hpp
/// A client connection upgraded to a WebSocket (RFC 6455) by a route, and what the session lends
/// the route to serve it.
///
/// The flow: the opening handshake (`GET` with `Upgrade: websocket`) is an ordinary request through
/// the middleware pipeline, so it is authenticated, logged and counted like any other. The route
/// that accepts it answers `101` through `ResponseSink::AcceptWebSocket` and leaves an
/// `UpgradedConnection` in `RequestContext::upgrade`. Once the pipeline has returned, the session
/// hands that object the connection's `MessageChannel` and a way to run further requests through
/// the same pipeline (`UpgradeServices::run`), and serves nothing else on the connection until
/// `Serve` returns.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "claudegate/net.hpp"

namespace claudegate::server {

struct RequestContext;

/// The WebSocket of one client connection, as whole messages. At most one `Read` and one `Write`
/// (or `Close`) may be outstanding at a time, on the connection's strand. Pings are answered and
/// sent by the channel itself (the peer is dropped when it stops answering them).
class MessageChannel {
 public:
  virtual ~MessageChannel() = default;

  /// Reads the next whole message (text or binary) into `out`, replacing its contents. An error
  /// means the connection is closed (`websocket::error::closed` after the peer's close frame),
  /// broken, or sent a message larger than the limit; read no further after one.
  virtual Awaitable<error_code> Read(std::string& out) = 0;

  /// Writes `text` as one text message. Completes when the bytes are handed to the socket, so a
  /// client that stops reading slows the writer; the write timeout drops it.
  virtual Awaitable<error_code> Write(std::string_view text) = 0;

  /// Sends a close frame (RFC 6455 §5.5.1, codes in §7.4.1); a pending `Read` ends when the peer
  /// answers with its own.
  virtual Awaitable<error_code> Close(std::uint16_t code, std::string_view reason) = 0;
};

/// What the session lends an upgraded connection.
struct UpgradeServices {
  /// Runs `ctx` (a request the route built from a message) through the middleware pipeline, as if
  /// it had come over HTTP: authentication, access log, metrics, the plan guard, the router.
  std::function<Awaitable<void>(RequestContext& ctx)> run;
  /// True once the server is shutting down: finish the request in flight, then close.
  std::function<bool()> draining;
  /// Marks the connection idle (between messages: evictable at a connection limit, closed at
  /// shutdown) or busy.
  std::function<void(bool idle)> set_idle;
};

/// A route's side of an upgraded connection.
class UpgradedConnection {
 public:
  virtual ~UpgradedConnection() = default;
  /// Serves the connection until it closes. The session closes the socket afterwards.
  virtual Awaitable<void> Serve(MessageChannel& channel, const UpgradeServices& services) = 0;
};

/// State a route keeps across the requests one upgraded connection carries (for example the
/// Responses WebSocket's last response). Handlers downcast `RequestContext::connection_local` to
/// their own type.
class ConnectionLocal {
 public:
  virtual ~ConnectionLocal() = default;
};

}  // namespace claudegate::server
