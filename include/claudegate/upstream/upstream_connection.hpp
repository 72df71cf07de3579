/// @file upstream_connection.hpp
/// One keep-alive connection to the upstream: plain TCP or verified TLS, with a watchdog that
/// closes it when an operation overruns its deadline.
///
/// Owned by one coroutine at a time (the pool hands it out exclusively). All operations must be
/// awaited from that coroutine; the watchdog timer is created on the awaiting coroutine's
/// executor, so a timeout and the I/O it cancels never run concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"

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

class UpstreamConnection {
 public:
  using PlainStream = tcp::socket;
  using TlsStream = ssl::stream<tcp::socket>;

  /// Connects and (for TLS) handshakes with SNI and host-name verification, each phase bounded.
  /// Errors: kUpstreamUnreachable (refused, DNS, TLS/certificate failure), kUpstreamTimeout.
  static Awaitable<Result<std::unique_ptr<UpstreamConnection>>> Open(
      const UpstreamTarget& target, ssl::context* tls, std::chrono::milliseconds connect_timeout,
      std::chrono::milliseconds tls_timeout);

  /// Writes all of `buffers` (bounded by `timeout`).
  Awaitable<error_code> Write(const std::vector<net::const_buffer>& buffers,
                              std::chrono::milliseconds timeout);

  /// Reads some bytes into `buffer`, waiting at most `timeout`. On timeout returns
  /// `beast::error::timeout` with the connection still open but no longer reusable (a cancelled
  /// TLS read leaves the session state unknown); the caller may read again.
  Awaitable<std::tuple<error_code, std::size_t>> ReadSome(net::mutable_buffer buffer,
                                                          std::chrono::milliseconds timeout);

  /// True when a pooled connection still looks usable: open and no unexpected bytes or EOF.
  [[nodiscard]] bool LooksAlive();
  /// Closes without a TLS close_notify (we never reuse after this).
  void Close();

  std::chrono::steady_clock::time_point idle_since;  ///< Set by the pool.
  bool reused = false;                               ///< Taken from the pool, not freshly opened.
  bool reusable = true;  ///< False after a cancelled read or a protocol surprise.

 private:
  explicit UpstreamConnection(std::variant<PlainStream, TlsStream> stream)
      : stream_(std::move(stream)) {}
  tcp::socket& Socket();

  std::variant<PlainStream, TlsStream> stream_;
};

}  // namespace claudegate::upstream
