/// @file refresh_protocol.hpp
/// The OAuth refresh exchange as pure functions: the request body, applying the token response to
/// `claudeAiOauth`, classifying error responses, and the retry backoff. No I/O, no clock reads:
/// `now` and randomness are parameters, so every function is deterministic under test.
/// Facts: docs/anthropic-notes.md#oauth-token-refresh.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/credentials/credentials_file.hpp"
#include "claudegate/error.hpp"

namespace claudegate::credentials {

/// The Claude Code OAuth client, used when `claudeAiOauth.clientId` is absent.
inline constexpr std::string_view kDefaultClientId = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
/// Default token endpoint (`CLAUDE_OAUTH_TOKEN_URL` overrides it in the daemon's config).
inline constexpr std::string_view kDefaultTokenUrl = "https://platform.claude.com/v1/oauth/token";
/// Refresh this long before `expiresAt`, like the CLI (`now + 300000 >= expiresAt`).
inline constexpr std::chrono::seconds kRefreshMargin{300};

/// Which `scope` to send.
enum class ScopeChoice {
  /// Default client: the CLI 2.1.330 scope list plus the preservable scopes already stored.
  /// With a stored `clientId`: the stored scopes verbatim.
  kAuto,
  /// The stored scopes verbatim: CLI 2.1.330's one-time fallback after `invalid_scope`.
  kStored,
};

/// The scopes a refresh asks for (see `ScopeChoice`).
[[nodiscard]] std::vector<std::string> RefreshScopes(const OAuthTokens& tokens,
                                                     ScopeChoice choice = ScopeChoice::kAuto);

/// The JSON body POSTed to the token endpoint: `grant_type`, `refresh_token`, `client_id` (stored
/// `clientId` or `kDefaultClientId`) and the space-joined `scope`. Contains the refresh token:
/// never log it.
[[nodiscard]] std::string BuildRefreshBody(const OAuthTokens& tokens,
                                           ScopeChoice choice = ScopeChoice::kAuto);

/// True when `tokens` expire within `margin` of `now` (the CLI's proactive-refresh rule).
[[nodiscard]] bool NeedsRefresh(const OAuthTokens& tokens,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds margin = kRefreshMargin);

/// Applies a 2xx token response to `old_oauth` (a `claudeAiOauth` object) and returns the new
/// object. Unknown fields of `old_oauth` are kept; `accessToken`, `expiresAt` (= now +
/// `expires_in` s, in ms) are set; `refreshToken` is replaced only when the response has one;
/// `scopes` only when it has `scope`; `refreshTokenExpiresAt` follows CLI 2.1.330 (min of old and
/// new; dropped when there was no valid old value). Errors: `kUpstreamUnreachable` when the body
/// is not a JSON object with a string `access_token` and a numeric `expires_in`.
[[nodiscard]] Result<nlohmann::ordered_json> ApplyTokenResponse(
    const nlohmann::ordered_json& old_oauth, std::string_view response_body,
    std::chrono::system_clock::time_point now);

/// What a failed refresh means for the next attempt.
enum class RefreshFailureKind {
  kInvalidGrant,  ///< The refresh token is dead (unless a sibling rotated it): re-read, then stop.
  kClientRejected,  ///< invalid_client / invalid_scope / unauthorized_client: long backoff.
  kAccountOnHold,   ///< `account_on_hold`: stop refreshing (the CLI does too).
  kTransient,       ///< Network failure, 5xx, 408, 429, lock busy: back off and retry.
  kUnexpected,      ///< Any other 4xx or a malformed 2xx: back off and retry.
};

/// How one refresh attempt of `FileCredentialSource` ended. `Label()` names it in logs, in
/// `/health` (`last_refresh.outcome`) and in the `/metrics` refresh counter.
enum class RefreshOutcome {
  kRefreshed,       ///< New tokens from the endpoint ("refreshed").
  kAdoptedSibling,  ///< Another process refreshed or logged in meanwhile ("adopted_sibling").
  kFailed,          ///< No new tokens; retried after a backoff ("failed").
  kDead,            ///< The refresh token was refused for good ("dead").
  kLoggedOut,       ///< The file holds the CLI's logged-out marker ("logged_out").
};
/// Number of `RefreshOutcome` values (for per-outcome counters).
inline constexpr std::size_t kRefreshOutcomeCount = 5;

/// The stable name of a refresh outcome (a metric label: never change one).
[[nodiscard]] std::string_view Label(RefreshOutcome outcome);

/// A classified refresh failure. `Summary()` is safe to log and to show in `/health`.
struct RefreshFailure {
  RefreshFailureKind kind = RefreshFailureKind::kTransient;
  unsigned status = 0;      ///< HTTP status; 0 when no response arrived.
  std::string error;        ///< OAuth `error` (or Anthropic `error.type`).
  std::string description;  ///< `error_description` (or Anthropic `error.message`).
  std::string error_uri;    ///< `error_uri` (account_on_hold), default claude.ai/restricted.

  /// E.g. `HTTP 400 invalid_grant: Refresh token not found or invalid`.
  [[nodiscard]] std::string Summary() const;
  /// The endpoint refused the requested scopes (OAuth `invalid_scope`): CLI 2.1.330 then retries
  /// once with the stored scopes.
  [[nodiscard]] bool ScopeRejected() const;
};

/// Classifies a non-2xx token-endpoint response. Accepts OAuth bodies
/// (`{"error":"invalid_grant","error_description":…}`), `error` as an object with `type`, and
/// Anthropic error bodies; anything unparsable is classified by status alone.
[[nodiscard]] RefreshFailure ClassifyTokenError(unsigned status, std::string_view body);

/// A transport failure (no HTTP response): always `kTransient`.
[[nodiscard]] RefreshFailure TransportFailure(const Error& error);

/// Exponential backoff between failed refresh attempts: `initial * 2^(failures-1)`, capped, with
/// optional symmetric jitter. Pure: the caller supplies the uniform random number.
struct BackoffPolicy {
  std::chrono::milliseconds initial{5000};
  std::chrono::milliseconds cap{std::chrono::minutes(5)};
  double jitter = 0.2;  ///< Fraction: the delay is scaled by `1 + jitter * (2u - 1)`.

  /// Delay after `consecutive_failures` (≥ 1) failures; `unit_random` in [0, 1). With
  /// `unit_random = 0.5` or `jitter = 0` the result is exact. Never exceeds `cap`; 0 for 0
  /// failures.
  [[nodiscard]] std::chrono::milliseconds Delay(int consecutive_failures,
                                                double unit_random = 0.5) const;
};

}  // namespace claudegate::credentials
