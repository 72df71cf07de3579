#include "claudegate/server/session.hpp"

#include "claudegate/error.hpp"

#include "serve_requests.hpp"
#include "session_sink.hpp"

namespace claudegate::server {

Awaitable<void> RunSession(TcpStream stream, std::string peer, SessionDeps deps) {
  auto state = std::make_shared<CloseState>();
  auto executor = stream.get_executor();
  // Per-client connection limit by peer address (an IPv6 /64 counts as one client, as for the
  // auth throttle). A trusted proxy speaks for many clients: not limited, since the client it
  // forwards for is only known from a header (docs/security.md).
  std::string client;
  error_code remote_ec;
  const auto remote = stream.socket().remote_endpoint(remote_ec);
  if (!remote_ec &&
      (deps.trusted_proxies == nullptr || !deps.trusted_proxies->Contains(remote.address()))) {
    client = middleware::ClientKey(peer, std::string_view{}, middleware::TrustedProxies());
  }
  auto registration = deps.tracker->TryRegister(
      [state, executor](bool force) {
        net::post(executor, [state, force] {
          if (state->alive && (force || state->idle) && state->close) {
            state->close();
          }
        });
      },
      std::move(client));
  if (!registration) {
    if (deps.tls == nullptr && !deps.tracker->draining()) {
      const Error busy{ErrorKind::kServiceUnavailable,
                       "Too many open connections; retry shortly.",
                       {},
                       "too_many_connections"};
      SessionSink<TcpStream> sink(stream, 11, false, deps.limits->write_timeout);
      HeaderList retry_after;  // not a braced list: GCC 12 rejects those in coroutines
      retry_after.emplace_back("retry-after", "1");
      co_await sink.Send(503, "application/json", OpenAiErrorBody(busy), retry_after);
    }
    co_return;
  }
  state->registration = &*registration;
  state->close = [&stream] {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.cancel();
  };

  if (deps.tls == nullptr) {
    co_await ServeAndClose(stream, state, peer, deps);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  } else {
    beast::ssl_stream<TcpStream> tls_stream(std::move(stream), *deps.tls);
    auto& lowest = beast::get_lowest_layer(tls_stream);
    state->close = [&lowest] {
      error_code ignored;
      lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest.cancel();
    };
    lowest.expires_after(deps.limits->header_timeout);
    auto [ec] = co_await tls_stream.async_handshake(ssl::stream_base::server, Token{});
    if (!ec) {
      co_await ServeAndClose(tls_stream, state, peer, deps);
      lowest.expires_after(std::chrono::seconds(2));
      co_await tls_stream.async_shutdown(Token{});
    }
  }
  state->alive = false;
  state->close = nullptr;
  state->registration = nullptr;
}

}  // namespace claudegate::server
