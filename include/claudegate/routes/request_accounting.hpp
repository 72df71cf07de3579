/// @file request_accounting.hpp
/// Helpers the API routes share to fill `RequestContext::usage` (tokens, TTFT, upstream error
/// type) for the access log and metrics, and to count open streams.
#pragma once

#include <string>
#include <string_view>

#include "claudegate/error.hpp"
#include "claudegate/http/request_context.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/translate/response_common.hpp"

namespace claudegate::routes {

/// Copies Anthropic's token counts into the request's usage.
void RecordUsage(server::RequestContext& ctx, const translate::Usage& usage);

/// Anthropic's `error.type` from an error body, or `http_<status>` when the body has none.
[[nodiscard]] std::string AnthropicErrorTypeOf(unsigned status, std::string_view body);

/// The metrics label for a gateway-side upstream failure: "timeout" or "connection" (empty for
/// errors that never reached the network, e.g. missing credentials).
[[nodiscard]] std::string TransportErrorLabel(const Error& error);

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

}  // namespace claudegate::routes
