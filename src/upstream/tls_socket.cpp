#include "claudegate/upstream/tls_socket.hpp"

#include <array>
#include <string>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "socket_bio.hpp"

namespace claudegate::upstream {
namespace {

Error SetupFailed(const std::string& what) {
  const auto code = static_cast<int>(::ERR_get_error());
  return Error(ErrorKind::kUpstreamUnreachable,
               "Cannot reach the Claude API: " + what + " (" +
                   error_code(code, net::error::get_ssl_category()).message() + ").",
               {}, "upstream_unreachable");
}

// The bytes of `buffers` copied into `storage` when there are several and together they fit one
// TLS record; otherwise an empty buffer.
net::const_buffer JoinSmall(std::span<const net::const_buffer> buffers, std::string& storage) {
  constexpr std::size_t kMaxRecordPlaintext = 16U * 1024U;  // RFC 8446 §5.1
  if (buffers.size() < 2) {
    return {};
  }
  std::size_t total = 0;
  for (const auto& buffer : buffers) {
    total += buffer.size();
  }
  if (total > kMaxRecordPlaintext) {
    return {};
  }
  storage.reserve(total);
  for (const auto& buffer : buffers) {
    storage.append(static_cast<const char*>(buffer.data()), buffer.size());
  }
  return net::buffer(storage);
}

}  // namespace

TlsSocket::TlsSocket(tcp::socket& socket, IoDeadline& deadline)
    : socket_(socket), deadline_(deadline), bio_target_(std::make_unique<SocketBioTarget>()) {
  bio_target_->socket = &socket;
}

TlsSocket::~TlsSocket() {
  if (ssl_ != nullptr) {
    // Connections end without a close_notify (UpstreamConnection::Close). SSL_free would then
    // treat the session as bad and mark it not resumable, which is the very session (the newest
    // ticket) the cache offers next; declaring the shutdown done keeps it usable, as nginx does
    // for connections it drops (ngx_ssl_shutdown; SSL_set_shutdown(3)). A session reaches the
    // cache only from a completed, verified handshake.
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl_);  // frees the BIO too; the session stays in the cache by its own reference
  }
}

Result<std::unique_ptr<TlsSocket>> TlsSocket::Create(tcp::socket& socket, IoDeadline& deadline,
                                                     SSL_CTX* context, const std::string& host,
                                                     const std::string& port,
                                                     std::shared_ptr<TlsSessionCache> sessions) {
  std::unique_ptr<TlsSocket> tls(new TlsSocket(socket, deadline));
  ::ERR_clear_error();
  tls->ssl_ = SSL_new(context);  // inherits SSL_VERIFY_PEER, the trust store, the modes
  if (tls->ssl_ == nullptr) {
    return SetupFailed("cannot create a TLS session");
  }
  error_code ec;
  socket.non_blocking(true, ec);  // OpenSSL's send/recv must never block the io thread
  if (ec) {
    return Error(ErrorKind::kUpstreamUnreachable,
                 "Cannot reach the Claude API: " + ec.message() + ".", {}, "upstream_unreachable");
  }
  BIO* bio = NewSocketBio(*tls->bio_target_);
  if (bio == nullptr) {
    return SetupFailed("cannot create a TLS socket BIO");
  }
  SSL_set_bio(tls->ssl_, bio, bio);  // one reference, used for both directions
  SSL_set_connect_state(tls->ssl_);

  // Host-name checking, as ssl::host_name_verification did: an IP literal is matched against the
  // leaf's IP SANs, anything else against its DNS names with X509_check_host's default flags.
  const bool is_address = [&] {
    error_code address_ec;
    net::ip::make_address(host, address_ec);
    return !address_ec;
  }();
  if (is_address) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls->ssl_), host.c_str()) != 1) {
      return SetupFailed("cannot set the expected IP address");
    }
  } else {
    // SNI must carry a DNS name, never an IP literal (RFC 6066 §3).
    if (SSL_set_tlsext_host_name(tls->ssl_, host.c_str()) != 1) {
      return SetupFailed("cannot set TLS SNI");
    }
    if (SSL_set1_host(tls->ssl_, host.c_str()) != 1) {
      return SetupFailed("cannot set the expected host name");
    }
  }
  // Verification is always on; the context sets SSL_VERIFY_PEER and there is no way to clear it.
  SSL_set_verify(tls->ssl_, SSL_VERIFY_PEER, nullptr);

  tls->session_slot_.cache = std::move(sessions);
  tls->session_slot_.key = host + ':' + port;
  if (!TlsSessionCache::Attach(tls->ssl_, tls->session_slot_)) {
    return SetupFailed("cannot attach the TLS session cache");
  }
  return tls;
}

bool TlsSocket::resumed() const { return SSL_session_reused(ssl_) == 1; }

bool TlsSocket::has_pending() const { return SSL_has_pending(ssl_) == 1; }

Awaitable<error_code> TlsSocket::WaitReadable() { co_return co_await WaitFor(Step::kWaitRead); }

TlsSocket::Step TlsSocket::Classify(int ret, error_code& ec) {
  const int ssl_error = SSL_get_error(ssl_, ret);
  switch (ssl_error) {
    case SSL_ERROR_NONE:
      return Step::kDone;
    case SSL_ERROR_WANT_READ:
      return Step::kWaitRead;
    case SSL_ERROR_WANT_WRITE:
      return Step::kWaitWrite;
    case SSL_ERROR_ZERO_RETURN:
      ec = net::error::eof;  // the peer's close_notify: a clean end
      return Step::kFailed;
    case SSL_ERROR_SYSCALL: {
      const unsigned long queued = ::ERR_get_error();  // NOLINT(google-runtime-int)
      if (queued != 0) {
        ec = error_code(static_cast<int>(queued), net::error::get_ssl_category());
      } else if (bio_target_->last_errno != 0) {
        ec = error_code(bio_target_->last_errno, net::error::get_system_category());
      } else {
        ec = ssl::error::stream_truncated;  // OpenSSL 1.1's report of an EOF without close_notify
      }
      return Step::kFailed;
    }
    default: {
      const unsigned long queued = ::ERR_get_error();  // NOLINT(google-runtime-int)
      // OpenSSL 3 reports a TCP end without close_notify as this reason (SSL_get_error(3), BUGS);
      // ssl::stream called it stream_truncated, which the response reader relies on.
      if (ERR_GET_LIB(queued) == ERR_LIB_SSL &&
          ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ec = ssl::error::stream_truncated;
      } else {
        ec = error_code(static_cast<int>(queued), net::error::get_ssl_category());
      }
      return Step::kFailed;
    }
  }
}

Awaitable<error_code> TlsSocket::WaitFor(Step step) {
  // A deadline or a cancellation that arrived while this coroutine was between two waits (the
  // previous completion queued, this wait not started yet) reached no operation; look first
  // (docs/architecture.md; the same check as UpstreamConnection's).
  if (deadline_.expired() ||
      (co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
    co_return net::error::operation_aborted;
  }
  const bool read = step == Step::kWaitRead;
  ++(read ? read_waits_ : write_waits_);
  auto [ec] =
      co_await socket_.async_wait(read ? tcp::socket::wait_read : tcp::socket::wait_write, Token{});
  co_return ec;
}

Awaitable<error_code> TlsSocket::Handshake() {
  for (;;) {
    ::ERR_clear_error();
    bio_target_->last_errno = 0;
    const int ret = SSL_do_handshake(ssl_);
    error_code ec;
    const Step step = Classify(ret, ec);
    if (step == Step::kDone) {
      break;
    }
    if (step == Step::kFailed) {
      co_return ec;
    }
    if (auto wait_ec = co_await WaitFor(step); wait_ec) {
      co_return wait_ec;
    }
  }
  // SSL_VERIFY_PEER already fails the handshake on a bad chain or name; checked again as nginx
  // does (ngx_ssl_check_host / SSL_get_verify_result(3)), so that no future callback or flag can
  // turn a failed verification into a connection.
  if (const long result = SSL_get_verify_result(ssl_);  // NOLINT(google-runtime-int)
      result != X509_V_OK) {
    co_return error_code(static_cast<int>(result), net::error::get_ssl_category());
  }
  co_return error_code{};
}

Awaitable<std::tuple<error_code, std::size_t>> TlsSocket::ReadSome(net::mutable_buffer buffer) {
  for (;;) {
    ::ERR_clear_error();
    bio_target_->last_errno = 0;
    std::size_t n = 0;
    const int ret = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &n);
    if (ret == 1) {
      co_return std::tuple<error_code, std::size_t>{error_code{}, n};
    }
    error_code ec;
    const Step step = Classify(ret, ec);
    if (step == Step::kFailed) {
      co_return std::tuple<error_code, std::size_t>{ec, 0};
    }
    // kWaitRead: no whole record yet (or only a session ticket); kWaitWrite: a TLS 1.3 key update
    // needs its reply written first. Either way the same call is repeated after the wait.
    if (auto wait_ec = co_await WaitFor(step == Step::kDone ? Step::kWaitRead : step); wait_ec) {
      co_return std::tuple<error_code, std::size_t>{wait_ec, 0};
    }
  }
}

Awaitable<error_code> TlsSocket::Write(std::span<const net::const_buffer> buffers) {
  // A request is a head and a body. Written apart they are two TLS records and two send(2)s;
  // joined (when they fit one record, 16 KiB) one of each.
  std::string joined;
  const std::array<net::const_buffer, 1> one = {JoinSmall(buffers, joined)};
  if (one[0].size() > 0) {
    buffers = one;
  }
  for (const auto& buffer : buffers) {
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write_ex returns only once the whole buffer is
    // written; after WANT_* it must be repeated with the same pointer and length (SSL_write(3)).
    while (buffer.size() > 0) {
      ::ERR_clear_error();
      bio_target_->last_errno = 0;
      std::size_t n = 0;
      const int ret = SSL_write_ex(ssl_, buffer.data(), buffer.size(), &n);
      if (ret == 1) {
        break;
      }
      error_code ec;
      const Step step = Classify(ret, ec);
      if (step == Step::kFailed) {
        co_return ec;
      }
      if (auto wait_ec = co_await WaitFor(step == Step::kDone ? Step::kWaitWrite : step); wait_ec) {
        co_return wait_ec;
      }
    }
  }
  co_return error_code{};
}

}  // namespace claudegate::upstream
