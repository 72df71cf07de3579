/// @file connection_io.hpp
/// The reads a session makes on its client connection (private to src/server/), for a plain
/// `TcpStream` and for `beast::ssl_stream<TcpStream>` alike: the rest of a header, the body, the
/// watch for a hang-up while a handler runs, and the lingering close.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include <poll.h>

#include "claudegate/net.hpp"
#include "claudegate/server/body_budget.hpp"

#include "request_parsing.hpp"

namespace claudegate::server {

// Beyond this many bytes read ahead while a handler runs (pipelined requests), stop reading: the
// bytes wait in the kernel instead of our memory.
inline constexpr std::size_t kMaxReadAhead = 64U * 1024U;
// Lingering close after an answer given without reading the announced body (nginx's
// lingering_close): long enough for the client to read the answer before a reset could destroy
// it, short and small enough to stay O(header) for a client that keeps sending.
inline constexpr std::size_t kLingerBytes = 256U * 1024U;
inline constexpr auto kLingerTime = std::chrono::seconds(1);

// The rest of a header that did not arrive whole: reads until ParseBufferedHeader is satisfied.
template <typename Stream>
Awaitable<error_code> ReadHeader(Stream& stream, beast::flat_buffer& buffer,
                                 http::request_parser<http::string_body>& parser,
                                 std::size_t max_header_bytes, std::size_t& parsed,
                                 bool& obs_fold) {
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), Token{});
    buffer.commit(n);
    if (ec) {
      co_return ec;
    }
    const error_code parse_ec =
        ParseBufferedHeader(buffer, parser, max_header_bytes, parsed, obs_fold);
    if (parse_ec != http::error::need_more) {
      co_return parse_ec;
    }
  }
}

// True when the client has shut down its sending side (FIN) or the connection broke, asked of the
// kernel directly (a level-triggered poll, no reactor involved). Needed because Asio's epoll
// reactor (edge-triggered) marks a short read "exhausted" and queues the next read until a new
// edge: a FIN that arrived together with the request's last bytes was announced by an edge that is
// already spent, so a queued read would never see it.
template <typename Stream>
bool PeerHungUp(Stream& stream) {
  pollfd polled{beast::get_lowest_layer(stream).socket().native_handle(), POLLRDHUP, 0};
  return ::poll(&polled, 1, 0) > 0 && (polled.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// Reads from the client while a handler runs. Returns when the client closed or reset the
// connection (so the caller cancels the handler), and then sets `peer_gone`; read-ahead bytes
// (pipelining) stay in `buffer`.
//
// Once a read has seen EOF the connection must not be read again: Asio's epoll reactor marks a
// short read "exhausted" and waits for the next edge before reading, and after EOF no edge ever
// comes, so a second read would hang until the idle timeout (found by the hostile-client tests).
// For the same reason a FIN that came with the request (a client that sends and hangs up at
// once) is looked for with PeerHungUp before each read: the read alone sometimes missed it, and
// the handler then waited for the upstream's first byte for nobody (issue 14, #15).
template <typename Stream>
Awaitable<void> WatchPeer(Stream& stream, beast::flat_buffer& buffer, bool& peer_gone) {
  // Being cancelled when the handler finishes is the normal end: report it as an error code,
  // not an exception (throwing here cost ~44k instructions on most requests; see
  // docs/performance.md).
  co_await net::this_coro::throw_if_cancelled(false);
  for (;;) {
    // A cancellation emitted before the read below starts would never reach it (fast handlers
    // finish before this coroutine first runs), so check the state first.
    const net::cancellation_state state = co_await net::this_coro::cancellation_state;
    if (state.cancelled() != net::cancellation_type::none) {
      co_return;
    }
    if (PeerHungUp(stream)) {
      peer_gone = true;
      co_return;
    }
    if (buffer.size() >= kMaxReadAhead) {
      Timer forever(co_await net::this_coro::executor, Timer::time_point::max());
      co_await forever.async_wait();
      co_return;
    }
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), Token{});
    buffer.commit(n);
    if (ec) {
      peer_gone = ec != net::error::operation_aborted;
      co_return;
    }
  }
}

// Reads the rest of an announced body into `parser` (eager) under the stream's timeout. A chunked
// body (size unknown) grows `reservation` before every read; a declared Content-Length was
// reserved whole before the first body byte. Returns BodyBudgetExhausted() when the budget cannot
// cover the next read.
template <typename Stream>
Awaitable<error_code> ReadBody(Stream& stream, beast::flat_buffer& buffer,
                               http::request_parser<http::string_body>& parser,
                               BodyBudget::Reservation* reservation) {
  for (;;) {
    const error_code ec = ParseBufferedBody(parser, buffer);
    if (ec != http::error::need_more) {
      co_return ec;
    }
    if (reservation != nullptr && !parser.content_length() &&
        !reservation->Cover(parser.get().body().size() + kBodyReadChunk)) {
      co_return BodyBudgetExhausted();
    }
    auto [read_ec, n] = co_await stream.async_read_some(buffer.prepare(kBodyReadChunk), Token{});
    buffer.commit(n);
    if (read_ec) {
      co_return read_ec;
    }
  }
}

// Ends a connection whose announced body was not read, after its answer. Closing with unread
// bytes makes the kernel send a reset, which can destroy the answer before the client reads it;
// so stop sending, then read and discard for a bounded while (plain TCP; a TLS session's shutdown
// exchange follows in RunSession).
template <typename Stream>
Awaitable<void> LingerClose(Stream& stream) {
  if constexpr (std::is_same_v<Stream, TcpStream>) {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(kLingerTime);
    std::array<char, kReadChunk> scratch{};
    std::size_t discarded = 0;
    while (discarded < kLingerBytes && !(PeerHungUp(stream) && stream.socket().available() == 0)) {
      auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), Token{});
      if (ec) {
        break;
      }
      discarded += n;
    }
  }
  co_return;
}

}  // namespace claudegate::server
