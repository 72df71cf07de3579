/// @file upstream_client.hpp
/// HTTP/1.1 client for the Claude API over a bounded keep-alive pool of verified TLS connections.
///
/// `Send()` writes a request and waits for the response headers; the body is then read piece by
/// piece from the returned `UpstreamResponse`, which gives its connection back to the pool when
/// the body was read completely (and closes it otherwise — e.g. when the client went away).
/// Thread-safe: any number of coroutines on any strands may call `Send()` concurrently. Each
/// caller must run on a strand (or a single-threaded executor): timeouts race the I/O with
/// `||`, whose branches would otherwise run in parallel on a multi-threaded io_context.
/// Cancellation: cancelling the awaiting coroutine aborts the pending read or write and the
/// connection is closed, which is how a client disconnect stops an upstream generation.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "claudegate/config/config.hpp"
#include "claudegate/error.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/response_sink.hpp"
#include "claudegate/upstream/upstream_connection.hpp"

namespace claudegate::upstream {

/// What to send. `target` is relative to the base URL's path (e.g. "/v1/messages?beta=true").
struct UpstreamRequest {
  http::verb method = http::verb::post;
  std::string target;
  std::string body;
  server::HeaderList headers;  ///< Everything but Host, User-Agent and Content-Length.
};

class ConnectionPool;

/// What one `UpstreamResponse::Read` produced. A silence is an outcome, not an error: the reader
/// decides what it means (a heartbeat, another wait, or giving up; docs/architecture.md, "The
/// exchange and the pump"). `Error` stays for what the client is told.
struct BodyRead {
  enum class Status {
    kData,  ///< `data` holds the next bytes of the body.
    kEnd,   ///< The body is complete.
    kIdle,  ///< Nothing arrived within the timeout; reading again may still get more.
  };
  /// A piece of the body; an empty one means the end (the convention `Read` has always had).
  BodyRead(std::string_view bytes)  // NOLINT(google-explicit-constructor): `co_return bytes;`
      : status(bytes.empty() ? Status::kEnd : Status::kData), data(bytes) {}
  [[nodiscard]] static BodyRead Idle() {
    BodyRead silence{std::string_view{}};
    silence.status = Status::kIdle;
    return silence;
  }
  Status status;
  std::string_view data;  ///< Valid until the next `Read`.
};

/// A response whose headers have arrived. Move-only.
class UpstreamResponse {
 public:
  /// `home`: the execution context the connection's socket is bound to (see ConnectionPool).
  UpstreamResponse(std::unique_ptr<UpstreamConnection> connection,
                   std::shared_ptr<ConnectionPool> pool, const void* home = nullptr);
  UpstreamResponse(UpstreamResponse&&) noexcept;
  UpstreamResponse& operator=(UpstreamResponse&&) noexcept;
  UpstreamResponse(const UpstreamResponse&) = delete;
  UpstreamResponse& operator=(const UpstreamResponse&) = delete;
  ~UpstreamResponse();

  [[nodiscard]] unsigned status() const;
  /// A response header, or empty.
  [[nodiscard]] std::string_view header(std::string_view name) const;
  /// All response headers.
  [[nodiscard]] const http::fields& headers() const;

  /// The next piece of the body, waiting at most `timeout`: data, the end, or `kIdle` when nothing
  /// arrived in time (the caller may call again). Errors: kUpstreamUnreachable when the connection
  /// broke or the body was malformed.
  Awaitable<Result<BodyRead>> Read(std::chrono::milliseconds timeout);

  /// The whole remaining body, at most `limit` bytes (error beyond); kUpstreamTimeout when a read
  /// waits `timeout` without a byte.
  Awaitable<Result<std::string>> ReadAll(std::size_t limit, std::chrono::milliseconds timeout);

  /// True once any response byte arrived (then a failure is never retried transparently).
  [[nodiscard]] bool received_any() const;

  /// Internal: reads the status line and headers.
  Awaitable<Result<void>> ReadHeader(std::chrono::milliseconds timeout);

 private:
  /// Returns the connection to the pool when the body was read completely, else closes it.
  void Release();

  struct State;
  std::unique_ptr<State> state_;
};

/// The client. Create once per process; share by reference or shared_ptr.
class UpstreamClient {
 public:
  /// Errors (bad base URL, unreadable CA bundle) surface from `Create`.
  static Result<std::unique_ptr<UpstreamClient>> Create(const config::Upstream& config);
  ~UpstreamClient();

  /// Sends `request` and waits (first-byte timeout) for the response headers. A failure on a
  /// pooled connection before any response byte arrived is retried once on a fresh connection.
  Awaitable<Result<UpstreamResponse>> Send(const UpstreamRequest& request);

  /// Sends to an absolute https:// URL (the OAuth token endpoint), no pooling.
  Awaitable<Result<UpstreamResponse>> SendTo(std::string_view url, const UpstreamRequest& request);

  /// Closes pooled connections idle longer than `pool_idle_timeout`; the gateway calls it
  /// periodically so that idle connections do not outlive the timeout. Safe on any thread.
  void CloseExpiredIdleConnections();
  /// Connections idle in the pool now.
  [[nodiscard]] std::size_t idle_connections() const;

  /// Connections opened so far (for tests and metrics).
  [[nodiscard]] std::size_t connections_opened() const { return connections_opened_; }
  /// Of those, TLS connections whose handshake resumed a cached session.
  [[nodiscard]] std::size_t connections_resumed() const { return connections_resumed_; }

 private:
  UpstreamClient(const config::Upstream& config, UpstreamTarget target,
                 std::unique_ptr<ssl::context> tls);
  Awaitable<Result<UpstreamResponse>> SendOnce(const UpstreamTarget& target,
                                               const UpstreamRequest& request,
                                               std::shared_ptr<ConnectionPool> pool,
                                               bool& retryable);

  const config::Upstream& config_;
  UpstreamTarget target_;
  std::unique_ptr<ssl::context> tls_;
  // Shared with every TLS connection it offered a session to (they may outlive the client).
  std::shared_ptr<TlsSessionCache> tls_sessions_;
  std::shared_ptr<ConnectionPool> pool_;
  std::atomic<std::size_t> connections_opened_{0};
  std::atomic<std::size_t> connections_resumed_{0};
};

/// Builds a client TLS context that verifies peers against `ca_file` or the system store, with
/// client-side session caching enabled for `TlsSessionCache`.
[[nodiscard]] Result<std::unique_ptr<ssl::context>> MakeClientTlsContext(
    const std::string& ca_file);

}  // namespace claudegate::upstream
