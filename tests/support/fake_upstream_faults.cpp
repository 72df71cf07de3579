// The half of FakeUpstream that misbehaves on purpose: writing scripted responses with their
// per-request faults, and breaking TLS handshakes for the connection-level faults.
#include <array>
#include <string_view>

#include "support/fake_upstream_io.hpp"

namespace claudegate::testing {

using namespace std::chrono_literals;
using Fault = ScriptedResponse::Fault;
using fake_upstream_io::DropTransport;
using fake_upstream_io::Registration;
using fake_upstream_io::TlsServerStream;

namespace fake_upstream_io {

Awaitable<void> GracefulClose(TlsServerStream& stream) {
  beast::get_lowest_layer(stream).expires_after(2s);
  co_await stream.async_shutdown(Token{});
  DropTransport(stream, false);
}

Awaitable<void> GracefulClose(TcpStream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  DropTransport(stream, false);
  co_return;
}

}  // namespace fake_upstream_io

Awaitable<void> FakeUpstream::ServeBrokenHandshake(tcp::socket socket, ConnectionFault fault) {
  TcpStream stream(std::move(socket));
  const std::uint64_t id = Register(co_await net::this_coro::executor, [&stream] {
    error_code ignored;
    stream.socket().close(ignored);
  });
  const Registration registration([this, id] { Unregister(id); });
  if (stopping_) {
    co_return;
  }
  // Wait for the ClientHello so the client is mid-handshake when the fault hits.
  std::array<char, 4096> hello{};
  stream.expires_after(10s);
  auto [read_ec, n] = co_await stream.async_read_some(net::buffer(hello), Token{});
  if (read_ec) {
    co_return;
  }
  Bump(tls_handshake_failures_);
  if (fault == ConnectionFault::kTlsSilentHandshake) {
    // Hold the connection, saying nothing, until the client gives up (or the fake shuts down).
    stream.expires_never();
    co_await stream.async_read_some(net::buffer(hello), Token{});
    co_return;
  }
  if (fault == ConnectionFault::kTlsGarbage) {
    // What a plain-HTTP server on the TLS port would answer.
    constexpr std::string_view kGarbage = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    co_await net::async_write(stream, net::buffer(kGarbage), Token{});
  }
  DropTransport(stream, false);
}

template <typename Stream>
Awaitable<FakeUpstream::Delivery> FakeUpstream::Deliver(Stream& stream,
                                                        const ScriptedResponse& response,
                                                        bool keep_alive, Exchange& exchange) {
  // Cancellation (the watcher saw the client leave) shows up as operation_aborted results. A
  // cancellation emitted while no cancellable operation is pending (say, a write that had already
  // completed) is only recorded in the state, so check it before starting each operation.
  co_await net::this_coro::throw_if_cancelled(false);
  const net::cancellation_state state = co_await net::this_coro::cancellation_state;
  const auto cancelled = [&] {
    return exchange.peer_closed || state.cancelled() != net::cancellation_type::none;
  };
  const auto failed = [&](const error_code& ec) {
    if (ec != net::error::operation_aborted && !stopping_) {
      exchange.peer_closed = true;  // EPIPE / ECONNRESET: the client went away
    }
    return Delivery::kFailed;
  };
  const auto drop = [&](bool reset) {
    exchange.server_closed = true;
    DropTransport(stream, reset);
    return Delivery::kClosed;
  };

  Timer timer(co_await net::this_coro::executor);
  if (response.delay_before_headers > std::chrono::milliseconds::zero()) {
    if (cancelled()) {
      co_return Delivery::kClosed;
    }
    timer.expires_after(response.delay_before_headers);
    auto [ec] = co_await timer.async_wait();
    if (ec) {
      co_return Delivery::kClosed;
    }
  }
  if (cancelled()) {
    co_return Delivery::kClosed;
  }
  if (response.fault == Fault::kNeverRespond) {
    timer.expires_at(Timer::time_point::max());
    co_await timer.async_wait();  // ends only when cancelled by the watcher or at shutdown
    co_return Delivery::kClosed;
  }
  if (response.fault == Fault::kCloseBeforeHeaders ||
      response.fault == Fault::kResetBeforeHeaders) {
    co_return drop(response.fault == Fault::kResetBeforeHeaders);
  }

  const bool chunked = !response.chunks.empty();
  http::response<http::empty_body> head;
  head.version(11);
  head.result(response.status);
  for (const auto& [name, value] : response.headers) {
    head.insert(name, value);
  }
  if (head.count(http::field::content_type) == 0) {
    head.set(http::field::content_type, chunked ? "text/event-stream" : "application/json");
  }
  if (chunked) {
    head.chunked(true);
  } else {
    head.content_length(response.body.size());
  }
  head.keep_alive(keep_alive);
  http::response_serializer<http::empty_body> serializer(head);
  {
    auto [ec, n] = co_await http::async_write_header(stream, serializer, Token{});
    if (ec) {
      co_return failed(ec);
    }
  }
  if (response.fault == Fault::kCloseAfterHeaders || response.fault == Fault::kResetAfterHeaders) {
    co_return drop(response.fault == Fault::kResetAfterHeaders);
  }
  const bool reset = response.fault == Fault::kResetMidStream;
  const bool truncate = response.fault == Fault::kTruncateCleanly;
  // Where a cut-short response stops: ServeRequests closes cleanly, the reset happens here.
  const auto cut_short = [&] {
    if (truncate) {
      exchange.server_closed = true;
      return Delivery::kCloseCleanly;
    }
    return drop(true);
  };

  if (cancelled()) {
    co_return Delivery::kClosed;
  }
  if (!chunked) {
    const std::size_t length = reset || truncate ? response.body.size() / 2 : response.body.size();
    if (length > 0) {
      auto [ec, n] =
          co_await net::async_write(stream, net::buffer(response.body.data(), length), Token{});
      if (ec) {
        co_return failed(ec);
      }
    }
    if (reset || truncate) {
      co_return cut_short();
    }
    exchange.delivered = true;
    co_return Delivery::kComplete;
  }

  const std::size_t count = reset || truncate ? response.chunks.size() / 2 : response.chunks.size();
  std::size_t sent = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& chunk = response.chunks[i];
    if (chunk.empty()) {
      continue;  // an empty chunk would be the last-chunk marker
    }
    if (cancelled()) {
      co_return Delivery::kClosed;
    }
    if (sent > 0 && response.delay_between_chunks > std::chrono::milliseconds::zero()) {
      timer.expires_after(response.delay_between_chunks);
      auto [ec] = co_await timer.async_wait();
      if (ec) {
        co_return Delivery::kClosed;
      }
    }
    if (cancelled()) {
      co_return Delivery::kClosed;
    }
    auto [ec, n] = co_await net::async_write(stream, http::make_chunk(net::buffer(chunk)), Token{});
    if (ec) {
      co_return failed(ec);
    }
    ++sent;
  }
  if (reset || truncate) {
    co_return cut_short();
  }
  if (cancelled()) {
    co_return Delivery::kClosed;
  }
  auto [ec, n] = co_await net::async_write(stream, http::make_chunk_last(), Token{});
  if (ec) {
    co_return failed(ec);
  }
  exchange.delivered = true;
  co_return Delivery::kComplete;
}

template Awaitable<FakeUpstream::Delivery> FakeUpstream::Deliver<TcpStream>(TcpStream&,
                                                                            const ScriptedResponse&,
                                                                            bool, Exchange&);
template Awaitable<FakeUpstream::Delivery> FakeUpstream::Deliver<TlsServerStream>(
    TlsServerStream&, const ScriptedResponse&, bool, Exchange&);

}  // namespace claudegate::testing
