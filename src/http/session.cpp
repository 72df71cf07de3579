#include "claudegate/http/session.hpp"

#include <array>
#include <type_traits>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <poll.h>
#include <spdlog/spdlog.h>

#include "claudegate/error.hpp"
#include "claudegate/http/request_framing.hpp"

#include "session_sink.hpp"

namespace claudegate::server {
namespace {

using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)

// Beyond this many bytes read ahead while a handler runs (pipelined requests), stop reading: the
// bytes wait in the kernel instead of our memory.
constexpr std::size_t kMaxReadAhead = 64U * 1024U;
constexpr std::size_t kReadChunk = 4096;
// Body reads, as large as Beast's own http::async_read makes them.
constexpr std::size_t kBodyReadChunk = 64U * 1024U;
// Lingering close after an answer given without reading the announced body (nginx's
// lingering_close): long enough for the client to read the answer before a reset could destroy
// it, short and small enough to stay O(header) for a client that keeps sending.
constexpr std::size_t kLingerBytes = 256U * 1024U;
constexpr auto kLingerTime = std::chrono::seconds(1);

// The sentinel ReadBody returns when the body budget is exhausted (mapped to 503 below).
const error_code kBodyBudgetExhausted = net::error::no_buffer_space;

// Session state the tracker's closer reads. Touched only on the connection's strand.
struct CloseState {
  bool idle = true;
  bool alive = true;
  std::function<void()> close;
  ConnectionTracker::Registration* registration = nullptr;

  // Idle connections (holding no request the gate let through for its body) may be closed at
  // shutdown, and evicted when a connection limit is reached.
  void SetIdle(bool now_idle) {
    idle = now_idle;
    if (registration != nullptr) {
      registration->SetIdle(now_idle);
    }
  }
};

// The error a request that failed to parse gets, or nullopt when the connection should simply
// close without a reply (client went away, idle timeout).
std::optional<Error> ParseFailure(const error_code& ec) {
  if (ec == http::error::header_limit) {
    return Error{
        ErrorKind::kHeadersTooLarge, "Request header fields too large.", {}, "headers_too_large"};
  }
  if (ec == http::error::body_limit) {
    return Error{ErrorKind::kPayloadTooLarge, "Request body too large.", {}, "request_too_large"};
  }
  if (ec == beast::error::timeout) {
    return Error{
        ErrorKind::kRequestTimeout, "Timed out reading the request.", {}, "request_timeout"};
  }
  if (ec == kBodyBudgetExhausted) {
    return Error{ErrorKind::kServiceUnavailable,
                 "Too many request bodies in flight; retry shortly.",
                 {},
                 "body_budget_exhausted"};
  }
  if (ec == http::error::end_of_stream || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == net::error::operation_aborted ||
      ec == net::error::bad_descriptor || ec == ssl::error::stream_truncated ||
      ec == http::error::partial_message) {
    return std::nullopt;
  }
  // Everything else is a protocol error: bad request line, bad header, bad chunk, smuggling
  // attempts such as both Content-Length and Transfer-Encoding.
  return Error{ErrorKind::kInvalidRequest,
               "Malformed HTTP request: " + ec.message() + ".",
               {},
               "bad_request"};
}

// Feeds what is buffered to the parser, header only, as http::async_read_header would, with two
// fixes:
// * Beast 1.81 applies header_limit to each put() call, not to the header as a whole, and consumes
//   complete field lines as they arrive, so a client sending its header a few KiB at a time was
//   never refused (unbounded fields in memory). The remaining budget is passed on each call;
//   `parsed` carries the bytes consumed so far across calls.
// * It looks at the raw bytes before Beast parses them: Beast unfolds obs-fold silently, and a
//   front proxy that does not might frame the request differently. Beast consumes a field line
//   only once it has seen that the next line does not continue it, so a fold is still in
//   `buffer` when we look.
// Returns need_more when the header is not complete yet. Synchronous, so a request that arrived
// whole with the first read costs no timed read (a parallel group of two coroutines, ~10k
// instructions per request; see docs/performance.md).
error_code ParseBufferedHeader(beast::flat_buffer& buffer,
                               http::request_parser<http::string_body>& parser,
                               std::size_t max_header_bytes, std::size_t& parsed, bool& obs_fold) {
  if (buffer.size() == 0) {
    return http::error::need_more;
  }
  const std::string_view raw(static_cast<const char*>(buffer.data().data()), buffer.size());
  if (HasObsFold(raw)) {
    obs_fold = true;
    return http::error::bad_field;
  }
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes - parsed));
  error_code ec;
  const std::size_t used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  parsed += used;
  if (ec == http::error::need_more && parsed >= max_header_bytes) {
    return http::error::header_limit;
  }
  return ec;
}

// Feeds a body that is already buffered (it usually arrives with the header) to an eager parser
// without an asynchronous read. Returns need_more when the parser wants bytes not yet here.
error_code ParseBufferedBody(http::request_parser<http::string_body>& parser,
                             beast::flat_buffer& buffer) {
  error_code ec;
  while (buffer.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec || used == 0) {
      break;
    }
  }
  if (!ec && !parser.is_done()) {
    ec = http::error::need_more;
  }
  return ec;
}

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
// reserved whole before the first body byte. Returns kBodyBudgetExhausted when the budget cannot
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
      co_return kBodyBudgetExhausted;
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

// Runs the pipeline with cancellation reported as error codes rather than exceptions, so a handler
// cancelled by a client disconnect still unwinds through its middleware (the access log sees it).
Awaitable<void> RunPipeline(const middleware::Pipeline& pipeline, RequestContext& ctx) {
  co_await net::this_coro::throw_if_cancelled(false);
  co_await pipeline.Run(ctx);
}

template <typename Stream>
Awaitable<void> SendParseFailure(Stream& stream, unsigned version, std::string_view target,
                                 const Error& error, const SessionDeps& deps,
                                 const std::string& peer) {
  SessionSink<Stream> sink(stream, version == 0 ? 11 : version, false, deps.limits->write_timeout);
  const ApiFlavor flavor = FlavorForPath(target.substr(0, target.find('?')));
  HeaderList extra;
  if (error.kind == ErrorKind::kServiceUnavailable) {
    extra.emplace_back("retry-after", "1");
  }
  co_await sink.Send(ErrorStatus(error.kind), "application/json", ErrorBody(flavor, error), extra);
  spdlog::info("rejected {} {} peer={} details={}", ErrorStatus(error.kind),
               OpenAiErrorType(error.kind), peer, error.code);
}

template <typename Stream>
Awaitable<void> ServeRequests(Stream& stream, const std::shared_ptr<CloseState>& state,
                              const std::string& peer, const SessionDeps& deps) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  for (;;) {
    state->SetIdle(true);
    if (deps.tracker->draining()) {
      co_return;
    }
    // Keep-alive: wait for the first byte of the next request under the idle timeout; the
    // header timeout starts only once a request has begun.
    if (buffer.size() == 0) {
      if (PeerHungUp(stream)) {
        co_return;  // a FIN whose edge is spent would leave the read below waiting (WatchPeer)
      }
      lowest.expires_after(deps.limits->idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), Token{});
      buffer.commit(n);
      if (ec) {
        co_return;
      }
    }
    // The connection stays evictable (`idle`) while it sends its header: until the gate has seen
    // the master key it holds nothing worth protecting (docs/security.md).

    http::request_parser<http::string_body> parser;
    // The body limit is checked below, once the target is known, so a 413 speaks the route's
    // error shape; Beast would otherwise reject an oversized Content-Length mid-header.
    parser.body_limit(boost::none);
    bool obs_fold = false;
    std::size_t parsed = 0;
    error_code header_ec =
        ParseBufferedHeader(buffer, parser, deps.limits->max_header_bytes, parsed, obs_fold);
    if (header_ec == http::error::need_more) {
      // The header timeout cancels the read instead of closing the socket (as the stream's own
      // timeout would), so the slow client still gets its 408.
      Timer header_deadline(co_await net::this_coro::executor, deps.limits->header_timeout);
      lowest.expires_never();
      auto header = co_await (
          ReadHeader(stream, buffer, parser, deps.limits->max_header_bytes, parsed, obs_fold) ||
          header_deadline.async_wait());
      header_ec = header.index() == 1 ? error_code(beast::error::timeout) : std::get<0>(header);
    }
    if (header_ec) {
      auto error = ParseFailure(header_ec);
      if (obs_fold) {
        error = Error{ErrorKind::kInvalidRequest,
                      "Malformed HTTP request: obsolete line folding is not accepted.",
                      {},
                      "bad_request"};
      }
      if (error) {
        co_await SendParseFailure(stream, 11, "", *error, deps, peer);
      }
      co_return;
    }
    // Framing Beast accepts but RFC 9112 forbids (e.g. a Transfer-Encoding that is not just
    // chunked, which would leave the body to be read as the next request): refuse and close.
    if (auto violation = FramingViolation(parser.get())) {
      const Error error{ErrorKind::kInvalidRequest,
                        "Malformed HTTP request: " + *violation + ".",
                        {},
                        "bad_request"};
      co_await SendParseFailure(stream, parser.get().version(), parser.get().target(), error, deps,
                                peer);
      co_return;
    }
    if (parser.content_length() && *parser.content_length() > deps.limits->max_body_bytes) {
      co_await SendParseFailure(stream, parser.get().version(), parser.get().target(),
                                *ParseFailure(http::error::body_limit), deps, peer);
      co_await LingerClose(stream);
      co_return;
    }
    parser.body_limit(deps.limits->max_body_bytes);

    // The header is in: ask the gate before `100 Continue` or any body byte, so a client without
    // the key (or a throttled one) costs O(header) (issue 14, #1).
    server::Request& request = parser.get();
    SessionSink<Stream> sink(stream, request.version(),
                             request.keep_alive() && !deps.tracker->draining(),
                             deps.limits->write_timeout);
    RequestContext ctx(request, sink, peer);
    ctx.flavor = FlavorForPath(ctx.Path());
    const bool body_announced = !parser.is_done();
    const middleware::HeaderVerdict verdict =
        deps.gate != nullptr ? deps.gate->Check(ctx) : middleware::HeaderVerdict::kReadBody;
    if (verdict == middleware::HeaderVerdict::kHeaderOnly && body_announced) {
      // Answered from the header alone (a refusal, a probe); the unread body ends the connection.
      sink.CloseAfterResponse();
      co_await RunPipeline(*deps.pipeline, ctx);
      co_await LingerClose(stream);
      co_return;
    }
    state->SetIdle(verdict != middleware::HeaderVerdict::kReadBody);

    // The body is held until the request ends: reserve it first (a chunked body as it grows).
    std::optional<BodyBudget::Reservation> reservation;
    if (body_announced && deps.body_budget != nullptr) {
      reservation.emplace(deps.body_budget->Start());
      if (!reservation->Cover(parser.content_length().value_or(0))) {
        co_await SendParseFailure(stream, request.version(), request.target(),
                                  *ParseFailure(kBodyBudgetExhausted), deps, peer);
        co_await LingerClose(stream);
        co_return;
      }
    }
    if (body_announced && beast::iequals(request[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, request.version()};
      lowest.expires_after(deps.limits->write_timeout);
      if (auto [ec, n] = co_await http::async_write(stream, go_on, Token{}); ec) {
        co_return;
      }
    }
    if (body_announced) {
      parser.eager(true);
      lowest.expires_after(deps.limits->body_timeout);
      const error_code ec =
          co_await ReadBody(stream, buffer, parser, reservation ? &*reservation : nullptr);
      if (ec) {
        if (auto error = ParseFailure(ec)) {
          co_await SendParseFailure(stream, request.version(), request.target(), *error, deps,
                                    peer);
          if (ec == kBodyBudgetExhausted) {
            co_await LingerClose(stream);
          }
        }
        co_return;
      }
    }
    lowest.expires_never();

    // The handler races the peer watch: a client that hangs up cancels its handler (and with it
    // the upstream request) instead of letting it run for nobody.
    bool peer_gone = false;
    co_await (RunPipeline(*deps.pipeline, ctx) || WatchPeer(stream, buffer, peer_gone));
    if (peer_gone || !sink.finished() || !sink.keep_alive() || deps.tracker->draining()) {
      co_return;
    }
  }
}

void LogBug(std::exception_ptr error) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("session ended by an unexpected exception (a bug): {}", e.what());
  }
}

template <typename Stream>
Awaitable<void> ServeAndClose(Stream& stream, const std::shared_ptr<CloseState>& state,
                              const std::string& peer, const SessionDeps& deps) {
  try {
    co_await ServeRequests(stream, state, peer, deps);
  } catch (...) {
    LogBug(std::current_exception());  // Bug trap: a handler threw; drop this connection only.
  }
}

}  // namespace

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
