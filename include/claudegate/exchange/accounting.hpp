/// @file accounting.hpp
/// What an upstream exchange cost and how it went, recorded in `RequestContext::usage` for the
/// access log and metrics (tokens, upstream error type), and the open-stream gauge. Shared by the
/// exchange, the pump's consumers and the routes.
#pragma once

#include <string>
#include <string_view>

#include "claudegate/error.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/server/request_context.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/response_common.hpp"

namespace claudegate::exchange {

/// Copies Anthropic's token counts into the request's usage.
void RecordUsage(server::RequestContext& ctx, const translate::Usage& usage);

/// Anthropic's `error.type` from an error body, or `http_<status>` when the body has none.
[[nodiscard]] std::string AnthropicErrorTypeOf(unsigned status, std::string_view body);

/// The metrics label for a gateway-side upstream failure: "timeout" or "connection" (empty for
/// errors that never reached the network, e.g. missing credentials).
[[nodiscard]] std::string TransportErrorLabel(const Error& error);

/// How a pumped answer that ended with an error is labelled, the same for every consumer
/// (docs/architecture.md, "The exchange and the pump"): `usage.upstream_error` is Anthropic's
/// `error.type` from the stream's `error` event; else `timeout`/`connection` for a failure the pump
/// reported (silence; broken, oversized or undecodable); else `connection` for an answer the
/// consumer found cut or malformed. `details` becomes `stream_error`, and `usage.refusal` the
/// refusal kind the `error` event names on its own (anthropic/refusal.hpp), if any.
class StreamErrorLabel {
 public:
  /// Looks at every event; only `error` events count.
  void OnEvent(const sse::Event& event);
  /// A failure the pump reported.
  void OnFailure(const Error& error);
  /// True once an `error` event or a failure was seen.
  [[nodiscard]] bool failed() const { return !label_.empty(); }
  /// Writes the label when the stream failed, or when `consumer_failed` (the consumer judged the
  /// answer cut or malformed).
  void Record(server::RequestContext& ctx, bool consumer_failed) const;

 private:
  std::string label_;
  std::string_view refusal_;  // anthropic::Label: a static string
  bool from_event_ = false;
};

/// Counts an open stream for as long as it lives (no-op without metrics).
class OpenStream {
 public:
  explicit OpenStream(metrics::GatewayMetrics* metrics);
  ~OpenStream();
  OpenStream(const OpenStream&) = delete;
  OpenStream& operator=(const OpenStream&) = delete;

 private:
  metrics::GatewayMetrics* metrics_;
};

}  // namespace claudegate::exchange
