// The definition of ServeAndClose (serve_requests.hpp), included only by serve_plain.cpp and
// serve_tls.cpp, which instantiate it for one stream type each.
#pragma once

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <spdlog/spdlog.h>

#include "claudegate/error.hpp"
#include "claudegate/server/request_framing.hpp"

#include "connection_io.hpp"
#include "serve_requests.hpp"
#include "session_sink.hpp"

namespace claudegate::server {
namespace serve_detail {

using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)

// Runs the pipeline with cancellation reported as error codes rather than exceptions, so a handler
// cancelled by a client disconnect still unwinds through its middleware (the access log sees it).
inline Awaitable<void> RunPipeline(const middleware::Pipeline& pipeline, RequestContext& ctx) {
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

// Serves a connection a route upgraded (websocket.hpp) until the route is done with it. Between
// messages the connection is idle: evictable at a connection limit and closed at shutdown.
inline Awaitable<void> ServeUpgraded(UpgradedConnection& route, MessageChannel& channel,
                                     const std::shared_ptr<CloseState>& state,
                                     const SessionDeps& deps) {
  UpgradeServices services;
  services.run = [&deps](RequestContext& carried) { return RunPipeline(*deps.pipeline, carried); };
  services.draining = [&deps] { return deps.tracker->draining(); };
  services.set_idle = [state](bool idle) { state->SetIdle(idle); };
  state->SetIdle(true);
  co_await route.Serve(channel, services);
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
                             deps.limits->write_timeout, deps.limits);
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
                                  *ParseFailure(BodyBudgetExhausted()), deps, peer);
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
          if (ec == BodyBudgetExhausted()) {
            co_await LingerClose(stream);
          }
        }
        co_return;
      }
    }
    lowest.expires_never();

    // A WebSocket opening handshake runs without the peer watch, which would read from the
    // connection the WebSocket takes over. (A client sends no frame before our 101, RFC 6455
    // §4.1, so nothing is left in `buffer` to hand over.)
    if (beast::websocket::is_upgrade(request)) {
      co_await RunPipeline(*deps.pipeline, ctx);
      if (MessageChannel* channel = sink.websocket(); channel != nullptr) {
        if (ctx.upgrade) {
          co_await ServeUpgraded(*ctx.upgrade, *channel, state, deps);
        }
        co_return;
      }
      if (!sink.finished() || !sink.keep_alive() || deps.tracker->draining()) {
        co_return;
      }
      continue;
    }

    // The handler races the peer watch: a client that hangs up cancels its handler (and with it
    // the upstream request) instead of letting it run for nobody.
    bool peer_gone = false;
    co_await (RunPipeline(*deps.pipeline, ctx) || WatchPeer(stream, buffer, peer_gone));
    if (peer_gone || !sink.finished() || !sink.keep_alive() || deps.tracker->draining()) {
      co_return;
    }
  }
}

inline void LogBug(std::exception_ptr error) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("session ended by an unexpected exception (a bug): {}", e.what());
  }
}

}  // namespace serve_detail

template <typename Stream>
Awaitable<void> ServeAndClose(Stream& stream, const std::shared_ptr<CloseState>& state,
                              const std::string& peer, const SessionDeps& deps) {
  try {
    co_await serve_detail::ServeRequests(stream, state, peer, deps);
  } catch (...) {
    serve_detail::LogBug(
        std::current_exception());  // Bug trap: a handler threw; drop this connection only.
  }
}

}  // namespace claudegate::server
