/// @file https_token_endpoint.hpp
/// The OAuth token endpoint (`CLAUDE_OAUTH_TOKEN_URL`) reached through the upstream client: a JSON
/// POST over verified HTTPS, as the Claude CLI sends it, but with claudegate's own User-Agent.
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

  Awaitable<Result<credentials::TokenHttpResponse>> Post(std::string json_body) override;

 private:
  UpstreamClient& client_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace claudegate::upstream
