/// @file upstream_connection.hpp
/// One keep-alive connection to the upstream: plain TCP or verified TLS (OpenSSL on the socket
/// itself, `TlsSocket`), with one watchdog timer (`IoDeadline`) that bounds whichever operation
/// is running.
///
/// Owned by one coroutine at a time (the pool hands it out exclusively). All operations must be
/// awaited from that coroutine, on the executor the connection was opened on (its home; see
/// ConnectionPool), so a timeout and the I/O it cancels never run concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"
#include "claudegate/upstream/io_deadline.hpp"

namespace claudegate::upstream {

/// Where the upstream lives, parsed from `ANTHROPIC_BASE_URL`.
struct UpstreamTarget {
  std::string host;
  std::string port;
  std::string base_path;  ///< Path prefix without trailing slash ("" for the root).
  bool tls = true;
};

/// Parses `https://host[:port][/prefix]` (or http://, for local test upstreams).
[[nodiscard]] Result<UpstreamTarget> ParseUpstreamUrl(std::string_view url);

class TlsSessionCache;
class TlsSocket;

class UpstreamConnection {
 public:
  /// Connects and (for TLS) handshakes with SNI and host-name verification, each phase bounded.
  /// `sessions` (may be null) offers and keeps resumable TLS sessions per host:port.
  /// Errors: kUpstreamUnreachable (refused, DNS, TLS/certificate failure), kUpstreamTimeout.
  static Awaitable<Result<std::unique_ptr<UpstreamConnection>>> Open(
      const UpstreamTarget& target, ssl::context* tls, std::chrono::milliseconds connect_timeout,
      std::chrono::milliseconds tls_timeout, std::shared_ptr<TlsSessionCache> sessions = nullptr);

  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  /// Writes all of `buffers` (bounded by `timeout`).
  Awaitable<error_code> Write(const std::vector<net::const_buffer>& buffers,
                              std::chrono::milliseconds timeout);

  /// Reads some bytes into `buffer`, waiting at most `timeout`. On timeout returns
  /// `beast::error::timeout` with the connection still open but no longer reusable (the response
  /// is in an unknown state); the caller may read again.
  Awaitable<std::tuple<error_code, std::size_t>> ReadSome(net::mutable_buffer buffer,
                                                          std::chrono::milliseconds timeout);

  /// Waits at most `timeout` until a read would make progress (bytes, EOF or an error are there)
  /// without taking a buffer, so that a quiet stream holds no read buffers while it waits
  /// (docs/performance.md, "Upstream TLS without the BIO pair"). Returns at once when bytes are
  /// already buffered in the kernel or in OpenSSL. Errors as ReadSome (timeout, cancellation).
  Awaitable<error_code> WaitReadable(std::chrono::milliseconds timeout);

  /// True when a pooled connection still looks usable: open and no unexpected bytes or EOF.
  [[nodiscard]] bool LooksAlive();
  /// Closes without a TLS close_notify (we never reuse after this).
  void Close();

  /// The TLS layer, or null on a plain-HTTP connection (for tests: resumption, waits).
  [[nodiscard]] const TlsSocket* tls() const { return tls_.get(); }

  std::chrono::steady_clock::time_point idle_since;  ///< Set by the pool.
  bool reused = false;                               ///< Taken from the pool, not freshly opened.
  bool reusable = true;  ///< False after a cancelled read or a protocol surprise.

 private:
  explicit UpstreamConnection(tcp::socket socket);

  // Declaration order is destruction order in reverse: the TLS session and the deadline refer to
  // the socket, so they go first.
  tcp::socket socket_;
  IoDeadline deadline_;
  std::unique_ptr<TlsSocket> tls_;
};

}  // namespace claudegate::upstream
