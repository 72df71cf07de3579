/// @file https_token_endpoint.hpp
/// The OAuth token endpoint (`CLAUDE_OAUTH_TOKEN_URL`) reached through the upstream client: a JSON
/// POST over verified HTTPS, as the Claude CLI sends it, but with claudegate's own User-Agent.
///
/// The whole exchange is bounded by `timeout` (30 s, the CLI's value): connecting and the TLS
/// handshake are further bounded by `upstream.connect_timeout`/`tls_timeout`, but the model
/// requests' 10-minute first-byte timeout never applies to the token endpoint.
#pragma once

#include <string>

#include "claudegate/credentials/token_endpoint.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace claudegate::upstream {

class HttpsTokenEndpoint final : public credentials::TokenEndpoint {
 public:
  /// `client` must outlive this object.
  HttpsTokenEndpoint(UpstreamClient& client, std::string url,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : client_(client), url_(std::move(url)), timeout_(timeout) {}

  /// Errors: as `TokenEndpoint::Post`; `kUpstreamTimeout` (code "timeout") when no complete
  /// answer arrived within `timeout`.
  Awaitable<Result<credentials::TokenHttpResponse>> Post(std::string json_body) override;

 private:
  Awaitable<Result<credentials::TokenHttpResponse>> Bounded(std::string json_body);
  Awaitable<Result<credentials::TokenHttpResponse>> Exchange(std::string json_body);

  UpstreamClient& client_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace claudegate::upstream
