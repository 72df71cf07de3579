/// @file translated_relay.hpp
/// The pump's consumers on the OpenAI-shaped routes (chat completions, Responses): a translated
/// stream relayed live, and a streamed answer assembled for a non-streaming client. The reading
/// itself (idle budget, heartbeats, TTFT, size bound, SSE decoding) is the pump's
/// (exchange/pump.hpp); these only connect a translator to it and account for the result.
///
/// Both run on the request's strand and honour its cancellation (a client disconnect aborts the
/// pending upstream read; the upstream connection is then closed).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/config/config.hpp"
#include "claudegate/exchange/accounting.hpp"
#include "claudegate/exchange/pump.hpp"
#include "claudegate/exchange/useful_headers.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/upstream/authorized_call.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace claudegate::routes {

/// The error types a translator's `Abort()` receives for failures the pump reports.
struct AbortTypes {
  std::string_view timeout;  ///< The upstream went silent for the whole idle budget.
  std::string_view broken;   ///< The connection broke or the stream could not be decoded.
};

/// Feeds a stream translator (StreamTranslator or ResponsesStreamTranslator: OnEvent,
/// OnUpstreamEnd, Abort, done) from the pump. Its output is whole SSE frames, so a heartbeat
/// comment fits between any two.
template <typename Translator>
class TranslatingConsumer final : public exchange::Consumer {
 public:
  TranslatingConsumer(Translator& translator, AbortTypes abort_types)
      : translator_(translator), abort_types_(abort_types) {}

  [[nodiscard]] exchange::Heartbeats heartbeats() const override {
    return exchange::Heartbeats::kBetweenFrames;
  }
  [[nodiscard]] bool done() const override { return translator_.done(); }
  void OnEvent(const sse::Event& event, std::string& out) override {
    label_.OnEvent(event);
    translator_.OnEvent(event, out);
  }
  void OnEnd(std::string& out) override { translator_.OnUpstreamEnd(out); }
  void OnFailure(exchange::Failure failure, const Error& error, bool /*mid_event*/,
                 std::string& out) override {
    label_.OnFailure(error);
    translator_.Abort(
        failure == exchange::Failure::kIdle ? abort_types_.timeout : abort_types_.broken,
        error.message, out);
  }

  [[nodiscard]] const exchange::StreamErrorLabel& label() const { return label_; }

 private:
  Translator& translator_;
  AbortTypes abort_types_;
  exchange::StreamErrorLabel label_;
};

/// Relays the upstream SSE stream (what the exchange read ahead first) through `translator` (see
/// TranslatingConsumer; also `error`, `started`, `usage`) as a 200 `text/event-stream`, then
/// records usage and the error label.
template <typename Translator>
Awaitable<server::Outcome> RelayTranslatedStream(
    server::RequestContext& ctx, upstream::AuthorizedResponse& answer, Translator& translator,
    const config::Upstream& config, metrics::GatewayMetrics* metrics, AbortTypes abort_types) {
  upstream::UpstreamResponse& response = answer.response;
  const exchange::OpenStream open_stream(metrics);
  ctx.usage.stream = true;
  exchange::StreamHead head;
  head.content_type = "text/event-stream; charset=utf-8";
  head.headers = exchange::StreamHeaders(response.headers());
  TranslatingConsumer<Translator> consumer(translator, abort_types);
  exchange::UpstreamBody body(response, std::move(answer.read_ahead));
  co_await exchange::Pump(body, exchange::PumpLimits::From(config), consumer, ctx, &head);
  consumer.label().Record(ctx, translator.error().has_value());
  if (translator.started()) {
    exchange::RecordUsage(ctx, translator.usage());
  }
  co_return server::Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

/// Outcome of reading a whole streamed upstream answer.
struct AccumulatedMessage {
  std::optional<nlohmann::json> message;   ///< The assembled Anthropic message.
  std::optional<server::Outcome> replied;  ///< Set when an error was already answered.
};

/// Reads a streamed upstream answer to its end for a non-streaming client (streaming upstream
/// keeps long generations clear of proxies' idle timeouts; docs/architecture.md). The answer is
/// held whole, so `upstream.max_response_bytes` bounds it. On failure it answers the client
/// (OpenAI shape) itself and returns `replied`.
Awaitable<AccumulatedMessage> AccumulateUpstreamMessage(server::RequestContext& ctx,
                                                        upstream::AuthorizedResponse& answer,
                                                        const config::Upstream& config);

}  // namespace claudegate::routes
