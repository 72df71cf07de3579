#include "claudegate/upstream/upstream_connection.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/url/parse.hpp>
#include <sys/socket.h>

#include "claudegate/config/loader.hpp"
#include "claudegate/upstream/tls_session_cache.hpp"
#include "claudegate/upstream/tls_socket.hpp"

namespace claudegate::upstream {
namespace {

using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)

Error Unreachable(const std::string& what, const error_code& ec) {
  return Error(ErrorKind::kUpstreamUnreachable,
               "Cannot reach the Claude API: " + what + " (" + ec.message() + ").", {},
               "upstream_unreachable");
}

Error TimedOut(const std::string& what) {
  return Error(ErrorKind::kUpstreamTimeout, "Timed out " + what + " the Claude API.", {},
               "timeout");
}

}  // namespace

Result<UpstreamTarget> ParseUpstreamUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return Error(ErrorKind::kInvalidRequest,
                 "ANTHROPIC_BASE_URL '" + config::RedactUrlUserinfo(url) + "' is not a valid URL");
  }
  UpstreamTarget target;
  const auto scheme = parsed->scheme();
  if (scheme != "https" && scheme != "http") {
    return Error(ErrorKind::kInvalidRequest, "ANTHROPIC_BASE_URL must use https:// (got '" +
                                                 config::RedactUrlUserinfo(url) + "')");
  }
  target.tls = scheme == "https";
  target.host = parsed->encoded_host();
  if (target.host.empty()) {
    return Error(ErrorKind::kInvalidRequest, "ANTHROPIC_BASE_URL has no host");
  }
  target.port = parsed->has_port() ? std::string(parsed->port()) : (target.tls ? "443" : "80");
  target.base_path = parsed->encoded_path();
  while (!target.base_path.empty() && target.base_path.back() == '/') {
    target.base_path.pop_back();
  }
  return target;
}

UpstreamConnection::UpstreamConnection(tcp::socket socket)
    : socket_(std::move(socket)), deadline_(socket_) {}

UpstreamConnection::~UpstreamConnection() = default;

Awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamConnection::Open(
    const UpstreamTarget& target, ssl::context* tls, std::chrono::milliseconds connect_timeout,
    std::chrono::milliseconds tls_timeout, std::shared_ptr<TlsSessionCache> sessions) {
  auto executor = co_await net::this_coro::executor;
  Token::as_default_on_t<tcp::resolver> resolver(executor);
  Timer timer(executor);

  timer.expires_after(connect_timeout);
  auto resolved = co_await (resolver.async_resolve(target.host, target.port) || timer.async_wait());
  if (resolved.index() == 1) {
    co_return TimedOut("resolving " + target.host + " for");
  }
  auto [resolve_ec, endpoints] = std::get<0>(std::move(resolved));
  if (resolve_ec) {
    co_return Unreachable("cannot resolve " + target.host, resolve_ec);
  }

  tcp::socket socket(executor);
  auto connected = co_await (net::async_connect(socket, endpoints, Token{}) || timer.async_wait());
  if (connected.index() == 1) {
    co_return TimedOut("connecting to");
  }
  if (auto [ec, endpoint] = std::get<0>(connected); ec) {
    co_return Unreachable("connection to " + target.host + ":" + target.port + " failed", ec);
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  std::unique_ptr<UpstreamConnection> connection(new UpstreamConnection(std::move(socket)));
  if (!target.tls) {
    co_return connection;
  }
  auto tls_socket =
      TlsSocket::Create(connection->socket_, connection->deadline_, tls->native_handle(),
                        target.host, target.port, std::move(sessions));
  if (!tls_socket) {
    co_return tls_socket.error();
  }
  connection->tls_ = std::move(*tls_socket);
  connection->deadline_.Start(tls_timeout);
  const error_code handshake_ec = co_await connection->tls_->Handshake();
  const bool expired = connection->deadline_.expired();
  connection->deadline_.Stop();
  if (handshake_ec && expired) {
    co_return TimedOut("in the TLS handshake with");
  }
  if (handshake_ec) {
    co_return Unreachable(
        "TLS handshake with " + target.host + " failed (certificate not trusted?)", handshake_ec);
  }
  co_return connection;
}

// Write and ReadSome first look whether the calling coroutine was cancelled, even if the
// cancellation reached no operation: one emitted while the coroutine was between two operations
// (a completion queued, the next read not started yet) is only recorded in its cancellation
// state. The pipeline runs with throw_if_cancelled(false), which would otherwise check this before
// each operation; without the check a client that hung up in that window left the request
// waiting for the upstream's first byte for 10 minutes (issue 14, #15; docs/architecture.md).
// TlsSocket repeats the check before each of its waits.
//
// A timeout is reported only when the operation failed: a completion that was already queued
// when the deadline fired still delivers its bytes.
Awaitable<error_code> UpstreamConnection::Write(const std::vector<net::const_buffer>& buffers,
                                                std::chrono::milliseconds timeout) {
  if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
    reusable = false;
    co_return net::error::operation_aborted;
  }
  deadline_.Start(timeout);
  error_code ec;
  if (tls_) {
    ec = co_await tls_->Write(buffers);
  } else {
    std::tie(ec, std::ignore) = co_await net::async_write(socket_, buffers, Token{});
  }
  const bool expired = deadline_.expired();
  deadline_.Stop();
  if (ec) {
    reusable = false;
  }
  if (ec && expired) {
    Close();
    co_return beast::error::timeout;
  }
  co_return ec;
}

Awaitable<std::tuple<error_code, std::size_t>> UpstreamConnection::ReadSome(
    net::mutable_buffer buffer, std::chrono::milliseconds timeout) {
  if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
    reusable = false;
    co_return std::tuple<error_code, std::size_t>{net::error::operation_aborted, 0};
  }
  deadline_.Start(timeout);
  std::tuple<error_code, std::size_t> result;
  if (tls_) {
    result = co_await tls_->ReadSome(buffer);
  } else {
    result = co_await socket_.async_read_some(buffer, Token{});
  }
  const bool expired = deadline_.expired();
  deadline_.Stop();
  if (std::get<0>(result)) {
    reusable = false;
    if (expired) {
      co_return std::tuple<error_code, std::size_t>{beast::error::timeout, 0};
    }
  }
  co_return result;
}

Awaitable<error_code> UpstreamConnection::WaitReadable(std::chrono::milliseconds timeout) {
  if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
    reusable = false;
    co_return net::error::operation_aborted;
  }
  if (tls_ && tls_->has_pending()) {
    co_return error_code{};
  }
  // Bytes or an EOF already queued in the kernel: no need to go through the reactor.
  char probe = 0;
  if (::recv(socket_.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT) >= 0) {
    co_return error_code{};
  }
  if (errno != EAGAIN && errno != EWOULDBLOCK) {
    co_return error_code{};  // an error: the read that follows reports it
  }
  deadline_.Start(timeout);
  error_code ec;
  if (tls_) {
    ec = co_await tls_->WaitReadable();
  } else {
    std::tie(ec) = co_await socket_.async_wait(tcp::socket::wait_read, Token{});
  }
  const bool expired = deadline_.expired();
  deadline_.Stop();
  if (ec) {
    reusable = false;
    if (expired) {
      co_return beast::error::timeout;
    }
  }
  co_return ec;
}

bool UpstreamConnection::LooksAlive() {
  if (!socket_.is_open() || !reusable) {
    return false;
  }
  // An idle keep-alive connection must have nothing to read: EOF means the server closed it,
  // bytes mean a TLS close_notify or garbage. Either way it is stale.
  char probe = 0;
  const auto n = ::recv(socket_.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void UpstreamConnection::Close() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace claudegate::upstream
