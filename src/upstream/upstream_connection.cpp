#include "claudegate/upstream/upstream_connection.hpp"

#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/url/parse.hpp>

#include "claudegate/config/loader.hpp"

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

Awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamConnection::Open(
    const UpstreamTarget& target, ssl::context* tls, std::chrono::milliseconds connect_timeout,
    std::chrono::milliseconds tls_timeout) {
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

  if (!target.tls) {
    co_return std::unique_ptr<UpstreamConnection>(new UpstreamConnection(std::move(socket)));
  }
  TlsStream stream(std::move(socket), *tls);
  // SNI must carry a DNS name, never an IP literal (RFC 6066 §3).
  error_code address_ec;
  net::ip::make_address(target.host, address_ec);
  if (address_ec && SSL_set_tlsext_host_name(stream.native_handle(), target.host.c_str()) != 1) {
    co_return Unreachable("cannot set TLS SNI",
                          error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
  }
  // Verifies the certificate's DNS or IP SAN against the host we dialled.
  stream.set_verify_callback(ssl::host_name_verification(target.host));
  timer.expires_after(tls_timeout);
  auto handshake = co_await (stream.async_handshake(ssl::stream_base::client, Token{}) ||
                             timer.async_wait());
  if (handshake.index() == 1) {
    co_return TimedOut("in the TLS handshake with");
  }
  if (auto [ec] = std::get<0>(handshake); ec) {
    co_return Unreachable("TLS handshake with " + target.host + " failed (certificate not trusted?)",
                          ec);
  }
  co_return std::unique_ptr<UpstreamConnection>(new UpstreamConnection(std::move(stream)));
}

tcp::socket& UpstreamConnection::Socket() {
  if (auto* plain = std::get_if<PlainStream>(&stream_)) {
    return *plain;
  }
  return std::get<TlsStream>(stream_).next_layer();
}

// Write and ReadSome first look whether the calling coroutine was cancelled, even if the
// cancellation reached no operation: one emitted while the coroutine was between two operations
// (a completion queued, the next read not started yet) is only recorded in its cancellation
// state. The pipeline runs with throw_if_cancelled(false), which would otherwise check this before
// each operation; without the check a client that hung up in that window left the request
// waiting for the upstream's first byte for 10 minutes (issue 14, #15; docs/architecture.md).
Awaitable<error_code> UpstreamConnection::Write(const std::vector<net::const_buffer>& buffers,
                                                std::chrono::milliseconds timeout) {
  if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
    reusable = false;
    co_return net::error::operation_aborted;
  }
  Timer timer(co_await net::this_coro::executor, timeout);
  auto write = [&]() -> Awaitable<std::tuple<error_code, std::size_t>> {
    if (auto* plain = std::get_if<PlainStream>(&stream_)) {
      co_return co_await net::async_write(*plain, buffers, Token{});
    }
    co_return co_await net::async_write(std::get<TlsStream>(stream_), buffers, Token{});
  };
  auto result = co_await (write() || timer.async_wait());
  if (result.index() == 1) {
    reusable = false;
    Close();
    co_return beast::error::timeout;
  }
  auto [ec, n] = std::get<0>(result);
  if (ec) {
    reusable = false;
  }
  co_return ec;
}

Awaitable<std::tuple<error_code, std::size_t>> UpstreamConnection::ReadSome(
    net::mutable_buffer buffer, std::chrono::milliseconds timeout) {
  if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
    reusable = false;
    co_return std::tuple<error_code, std::size_t>{net::error::operation_aborted, 0};
  }
  Timer timer(co_await net::this_coro::executor, timeout);
  auto read = [&]() -> Awaitable<std::tuple<error_code, std::size_t>> {
    if (auto* plain = std::get_if<PlainStream>(&stream_)) {
      co_return co_await plain->async_read_some(buffer, Token{});
    }
    co_return co_await std::get<TlsStream>(stream_).async_read_some(buffer, Token{});
  };
  auto result = co_await (read() || timer.async_wait());
  if (result.index() == 1) {
    reusable = false;
    co_return std::tuple<error_code, std::size_t>{beast::error::timeout, 0};
  }
  auto value = std::get<0>(result);
  if (std::get<0>(value)) {
    reusable = false;
  }
  co_return value;
}

bool UpstreamConnection::LooksAlive() {
  tcp::socket& socket = Socket();
  if (!socket.is_open() || !reusable) {
    return false;
  }
  // An idle keep-alive connection must have nothing to read: EOF means the server closed it,
  // bytes mean a TLS close_notify or garbage. Either way it is stale.
  char probe = 0;
  const auto n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void UpstreamConnection::Close() {
  error_code ignored;
  Socket().shutdown(tcp::socket::shutdown_both, ignored);
  Socket().close(ignored);
}

}  // namespace claudegate::upstream
