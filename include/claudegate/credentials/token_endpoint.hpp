/// @file token_endpoint.hpp
/// The seam between the credential refresh logic and HTTPS: the refresh code builds the JSON body
/// and interprets the answer; an implementation only moves bytes.
#pragma once

#include <string>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"

namespace claudegate::credentials {

/// An HTTP answer from the token endpoint, whatever its status.
struct TokenHttpResponse {
  unsigned status = 0;  ///< HTTP status code.
  std::string body;     ///< Response body (JSON on success; may hold new tokens: never log it).
};

/// POSTs refresh requests to the OAuth token endpoint (`CLAUDE_OAUTH_TOKEN_URL`, default
/// https://platform.claude.com/v1/oauth/token).
///
/// Implementations send `Content-Type: application/json`, `Accept: application/json`, the
/// gateway's own `User-Agent`, follow no redirects, verify TLS, and bound the whole exchange
/// (the CLI uses 30 s).
///
/// @par Thread Safety
/// `Post()` may be called from any thread, though the credential source never has more than one
/// call in flight per process. The awaitable completes on the caller's executor.
///
/// @par Cancellation
/// Should honour the awaiting coroutine's cancellation slot. The credential source never cancels a
/// `Post()` it started: a response carrying a rotated refresh token must not be dropped.
class TokenEndpoint {
 public:
  virtual ~TokenEndpoint() = default;

  /// Sends `json_body` and returns the response for *any* HTTP status (a 400 `invalid_grant` is a
  /// response, not an error). Errors: only when no response was obtained (DNS, connect, TLS,
  /// timeout), as `kUpstreamUnreachable` / `kUpstreamTimeout` with a message without secrets.
  virtual Awaitable<Result<TokenHttpResponse>> Post(std::string json_body) = 0;
};

}  // namespace claudegate::credentials
