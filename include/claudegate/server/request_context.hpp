/// @file request_context.hpp
/// Everything the middleware chain and the route handler know about one request.
///
/// Owned by the session for the duration of one request; handlers get it by reference and must not
/// keep it beyond their return.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/response_sink.hpp"
#include "claudegate/server/websocket.hpp"

namespace claudegate::server {

using Request = http::request<http::string_body>;

/// What a request cost and how it went, filled in by the route handler for the access log and
/// metrics. Token counts are Anthropic's own.
struct RequestUsage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_read_tokens = 0;
  std::int64_t cache_write_tokens = 0;
  bool reported = false;                   ///< Anthropic reported usage for this request.
  bool stream = false;                     ///< The client got a streamed response.
  std::optional<double> ttft_seconds;      ///< Request start → first streamed content.
  std::optional<double> upstream_seconds;  ///< Upstream call → response headers.
  std::string upstream_error;              ///< Anthropic error type when the call failed.
  /// The kind of Anthropic's refusal (anthropic::Label, e.g. `five_hour_limit`) when it named one.
  std::string refusal;
  std::string upstream_request_id;  ///< Anthropic's `request-id` of the answer relayed.
  std::string fallback_model;       ///< The fallback's Anthropic id, when one answered.
  std::int64_t retries = 0;         ///< Upstream attempts sent again (retries and fallbacks).
};

/// A refusal decided from the request header alone, before the body was read (see
/// middleware/header_gate.hpp). The middleware that decided it answers it when the pipeline runs,
/// so the reply, the access log and the metrics are those of any other refusal.
struct HeaderRefusal {
  Error error;
  std::string details;  ///< Becomes `RequestContext::details`.
  HeaderList headers;   ///< e.g. retry-after.
};

/// One request in flight.
struct RequestContext {
  RequestContext(Request& req, ResponseSink& response_sink, std::string peer_address)
      : request(req), sink(response_sink), peer(std::move(peer_address)) {}

  Request& request;
  ResponseSink& sink;
  std::string peer;        ///< "ip:port" of the client.
  std::string request_id;  ///< Set by the RequestId middleware.
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  ApiFlavor flavor = ApiFlavor::kOpenAi;  ///< Which error shape this path speaks.
  std::string route = "unmatched";        ///< Route pattern for logs/metrics (bounded cardinality).
  std::string details;          ///< Why a middleware answered locally (e.g. "auth_missing").
  std::string model;            ///< Model alias asked for, when the route has one.
  RequestUsage usage;           ///< Filled in by the handler.
  bool header_checked = false;  ///< The header gate has already decided about this request.
  /// The virtual key the request presented (its token: SHA-256 hex, never the key), empty for
  /// the master key or no key (middleware/auth.hpp, docs/keys.md).
  std::string key_token;
  std::string key_label;  ///< That key's alias or `sk-...abcd` name, for the access log.
  std::optional<HeaderRefusal> refusal;  ///< Set by the header gate when it refused.
  /// Set by a route that answered `101` (ResponseSink::AcceptWebSocket): the session hands it the
  /// connection once the pipeline has returned (websocket.hpp).
  std::shared_ptr<UpgradedConnection> upgrade;
  /// For a request carried by an upgraded connection: that connection's state (websocket.hpp).
  ConnectionLocal* connection_local = nullptr;

  /// Seconds since the request arrived.
  [[nodiscard]] double ElapsedSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  /// The path without its query string.
  [[nodiscard]] std::string_view Path() const {
    std::string_view target = request.target();
    return target.substr(0, target.find('?'));
  }
};

/// Which error shape a path speaks: Anthropic's on `/v1/messages*`, OpenAI's elsewhere.
[[nodiscard]] inline ApiFlavor FlavorForPath(std::string_view path) {
  return path.starts_with("/v1/messages") ? ApiFlavor::kAnthropic : ApiFlavor::kOpenAi;
}

}  // namespace claudegate::server
