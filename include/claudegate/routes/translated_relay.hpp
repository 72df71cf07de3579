/// @file translated_relay.hpp
/// The upstream half shared by the OpenAI-shaped routes (chat completions, responses): relaying
/// upstream errors in OpenAI's shape, relaying a translated stream with heartbeats and
/// backpressure, and assembling a streamed upstream answer for non-streaming clients.
///
/// All functions run on the request's strand and honour its cancellation (a client disconnect
/// aborts the pending upstream read; the upstream connection is then closed).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/config/config.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/routes/request_accounting.hpp"
#include "claudegate/routes/upstream_errors.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/sse/encoder.hpp"
#include "claudegate/upstream/authorized_call.hpp"

namespace claudegate::routes {

/// `retry-after` as whole seconds, when it is one.
[[nodiscard]] std::optional<unsigned> RetryAfterSeconds(std::string_view value);

/// Reads what is left of a response after its last event (normally only the chunked terminator)
/// so the connection can go back to the pool instead of being closed.
Awaitable<void> DrainBody(upstream::UpstreamResponse& response, const config::Upstream& config);

/// An upstream non-2xx answer translated to OpenAI's error shape, useful headers kept,
/// `x-should-retry: false` where retrying cannot help.
Awaitable<middleware::Outcome> RelayOpenAiUpstreamError(middleware::RequestContext& ctx,
                                                        upstream::AuthorizedResponse& answer,
                                                        const config::Upstream& config);

/// The error types a translator's `Abort()` receives for gateway-detected stream failures.
struct AbortTypes {
  std::string_view timeout;  ///< The upstream went silent past the idle timeout.
  std::string_view broken;   ///< The connection broke or the stream was malformed.
};

/// The 502 for an answer over `upstream.max_response_bytes` that a non-streaming client waits for.
[[nodiscard]] Error ResponseTooLarge(std::size_t limit);

/// Outcome of reading a whole streamed upstream answer.
struct AccumulatedMessage {
  std::optional<nlohmann::json> message;       ///< The assembled Anthropic message.
  std::optional<middleware::Outcome> replied;  ///< Set when an error was already answered.
};

/// Reads a streamed upstream answer to its end for a non-streaming client (reference §3.4: long
/// generations would otherwise hit idle timeouts in proxies). On failure it answers the client
/// (OpenAI shape) itself and returns `replied`.
Awaitable<AccumulatedMessage> AccumulateUpstreamMessage(middleware::RequestContext& ctx,
                                                        upstream::UpstreamResponse& response,
                                                        const config::Upstream& config);

/// Relays the upstream SSE stream through `translator` (StreamTranslator or
/// ResponsesStreamTranslator: OnEvent, OnUpstreamEnd, Abort, done, error, started, usage), one
/// client write per upstream read so a slow client slows the upstream read. Sends SSE comment
/// heartbeats during upstream silences so proxies in front keep the stream open.
template <typename Translator>
Awaitable<middleware::Outcome> RelayTranslatedStream(
    middleware::RequestContext& ctx, upstream::UpstreamResponse& response, Translator& translator,
    const config::Upstream& config, metrics::GatewayMetrics* metrics, AbortTypes abort_types) {
  const OpenStream open_stream(metrics);
  ctx.usage.stream = true;
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  headers.emplace_back("cache-control", "no-cache");
  headers.emplace_back("x-accel-buffering", "no");  // nginx: do not buffer this response
  if (auto ec = co_await ctx.sink.WriteHead(200, "text/event-stream; charset=utf-8", headers); ec) {
    co_return middleware::Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
  }
  sse::Decoder decoder(config.max_sse_event_bytes);
  std::string out;
  out.reserve(4096);
  auto silence = std::chrono::milliseconds::zero();
  for (;;) {
    auto piece = co_await response.Read(config.heartbeat_interval);
    if (!piece && piece.error().code == "idle") {
      silence += config.heartbeat_interval;
      if (silence < config.stream_idle_timeout) {
        if (co_await ctx.sink.WriteChunk(sse::kKeepAlive)) {
          break;  // client gone
        }
        continue;
      }
      translator.Abort(abort_types.timeout, "The Claude API stream went silent; giving up.", out);
    } else if (!piece) {
      translator.Abort(abort_types.broken, piece.error().message, out);
    } else if (piece->empty()) {
      translator.OnUpstreamEnd(out);
    } else {
      silence = std::chrono::milliseconds::zero();
      if (!ctx.usage.ttft_seconds && piece->find("content_block_delta") != std::string_view::npos) {
        ctx.usage.ttft_seconds = ctx.ElapsedSeconds();
      }
      auto fed =
          decoder.Feed(*piece, [&](const sse::Event& event) { translator.OnEvent(event, out); });
      if (!fed) {
        translator.Abort(abort_types.broken, fed.error().message, out);
      }
    }
    if (!out.empty()) {
      if (co_await ctx.sink.WriteChunk(out)) {
        break;  // client gone: returning closes the upstream connection
      }
      out.clear();
    }
    if (!piece || piece->empty() || translator.done()) {
      if (translator.done() && piece && !piece->empty()) {
        co_await DrainBody(response, config);
      }
      break;
    }
  }
  if (translator.error()) {
    ctx.details = "stream_error";
    ctx.usage.upstream_error = translator.error()->type;
  }
  if (translator.started()) {
    RecordUsage(ctx, translator.usage());
  }
  co_await ctx.sink.Finish();
  co_return middleware::Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

}  // namespace claudegate::routes
