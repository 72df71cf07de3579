/// @file tls_socket.hpp
/// TLS client on a connected TCP socket, with OpenSSL reading and writing the socket itself
/// (non-blocking), the way nginx drives OpenSSL (src/event/ngx_event_openssl.c): call
/// SSL_connect/SSL_read/SSL_write; on SSL_ERROR_WANT_READ or SSL_ERROR_WANT_WRITE wait until the
/// socket is readable or writable (`async_wait`) and call again with the same arguments.
///
/// Compared with `ssl::stream` this drops the BIO pair and the two 17 KiB buffers it adds per
/// connection; with `SSL_MODE_RELEASE_BUFFERS` on the context an idle connection holds no record
/// buffers at all. A read cancelled while it waits leaves the TLS session intact, because OpenSSL
/// is never in the middle of a call when the wait is cancelled. Measurements:
/// docs/performance.md, "Upstream TLS without the BIO pair".
///
/// Verification is as strict as `ssl::stream` with `ssl::host_name_verification`: the context's
/// `SSL_VERIFY_PEER` and trust store, plus the dialled host checked against the leaf's DNS SANs
/// (X509_check_host rules, SSL_set1_host(3)) or, for an IP literal, its IP SANs
/// (X509_VERIFY_PARAM_set1_ip_asc(3)). SNI carries DNS names only (RFC 6066 §3).
///
/// Not thread-safe; owned by one upstream connection and used by one coroutine at a time.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <tuple>

#include <openssl/ssl.h>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"
#include "claudegate/upstream/io_deadline.hpp"
#include "claudegate/upstream/tls_session_cache.hpp"

namespace claudegate::upstream {

struct SocketBioTarget;

class TlsSocket {
 public:
  /// Prepares a client session on `socket` (connected) for `host` (the name or IP literal that was
  /// dialled), offering a cached session from `sessions` when it has one for `host:port`.
  /// `socket` and `deadline` must outlive the TlsSocket. Errors: kUpstreamUnreachable.
  static Result<std::unique_ptr<TlsSocket>> Create(tcp::socket& socket, IoDeadline& deadline,
                                                   SSL_CTX* context, const std::string& host,
                                                   const std::string& port,
                                                   std::shared_ptr<TlsSessionCache> sessions);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  /// The client handshake, including certificate and host-name verification. Waits are ended
  /// early by the deadline (operation_aborted, with `deadline.expired()`) or by cancelling the
  /// awaiting coroutine.
  Awaitable<error_code> Handshake();
  /// Reads some application data. End of stream: `net::error::eof` after the peer's close_notify,
  /// `ssl::error::stream_truncated` when the TCP connection ended without one.
  Awaitable<std::tuple<error_code, std::size_t>> ReadSome(net::mutable_buffer buffer);
  /// Writes every byte of `buffers`.
  Awaitable<error_code> Write(std::span<const net::const_buffer> buffers);

  /// True when OpenSSL holds received bytes not read yet (a record partly read, or one not yet
  /// decrypted): the socket may then stay silent although a read would succeed.
  [[nodiscard]] bool has_pending() const;
  /// Waits until the socket is readable; errors as the other operations.
  Awaitable<error_code> WaitReadable();

  /// True when the handshake resumed a cached session.
  [[nodiscard]] bool resumed() const;
  /// Times an operation had to wait for the socket to become readable or writable (for tests).
  [[nodiscard]] std::size_t read_waits() const { return read_waits_; }
  [[nodiscard]] std::size_t write_waits() const { return write_waits_; }

 private:
  TlsSocket(tcp::socket& socket, IoDeadline& deadline);
  enum class Step { kDone, kWaitRead, kWaitWrite, kFailed };
  // Classifies the result `ret` of an SSL call; on kFailed, `ec` says why.
  Step Classify(int ret, error_code& ec);
  // Waits for readiness; an error when the deadline expired or the coroutine was cancelled.
  Awaitable<error_code> WaitFor(Step step);

  tcp::socket& socket_;
  IoDeadline& deadline_;
  std::unique_ptr<SocketBioTarget> bio_target_;
  TlsSessionSlot session_slot_;
  SSL* ssl_ = nullptr;
  std::size_t read_waits_ = 0;
  std::size_t write_waits_ = 0;
};

}  // namespace claudegate::upstream
