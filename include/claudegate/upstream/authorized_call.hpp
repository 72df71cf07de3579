/// @file authorized_call.hpp
/// One upstream call with the Claude credential attached, retried once with a fresh credential
/// when Anthropic rejects the one we sent (401, or 403 "OAuth token has been revoked").
///
/// Shared by every route that talks to Anthropic, so the credential rules live in one place.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "claudegate/config/config.hpp"
#include "claudegate/credentials/credential_source.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace claudegate::upstream {

/// What a route needs to call upstream.
struct CallContext {
  const config::Upstream& config;
  credentials::CredentialSource& credentials;
  UpstreamClient& client;
  metrics::GatewayMetrics* metrics = nullptr;  ///< Plan state is updated here when set.
};

/// A response plus, when the gateway had to read an error body to classify it, that body.
struct AuthorizedResponse {
  UpstreamResponse response;
  std::optional<std::string> error_body;  ///< Already-read body (the response has none left).
  double upstream_seconds = 0;            ///< Send → response headers (last attempt).
  /// The start of a 200 body the exchange already read (its read-ahead; exchange/exchange.hpp);
  /// the body continues after it.
  std::string read_ahead;
};

/// Sends `request` (which must not carry credentials or `anthropic-beta`) with the current
/// credential and the merged betas (`client_betas` header value, then `request_betas`).
/// Errors: kServiceUnavailable without credentials; upstream connection errors.
/// Every response's `anthropic-ratelimit-unified-*` headers update `call.metrics->plan`.
Awaitable<Result<AuthorizedResponse>> SendAuthorized(const CallContext& call,
                                                     UpstreamRequest request,
                                                     std::string_view client_betas,
                                                     const std::vector<std::string>& request_betas);

}  // namespace claudegate::upstream
