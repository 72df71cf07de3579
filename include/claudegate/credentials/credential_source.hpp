/// @file credential_source.hpp
/// The interface the upstream client asks for the Claude credential to send.
///
/// Implementations: a static token (`CLAUDE_CODE_OAUTH_TOKEN` or `ANTHROPIC_API_KEY`), and the
/// refreshing `.credentials.json` provider. All methods may be called concurrently from any
/// thread; awaitables complete on the caller's executor.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"

namespace claudegate::credentials {

/// How a credential is presented upstream.
enum class CredentialKind {
  kOAuth,   ///< `Authorization: Bearer` + `anthropic-beta: oauth-2025-04-20`, no `x-api-key`.
  kApiKey,  ///< `x-api-key` only.
};

/// A credential ready to send. `secret` is never logged.
struct Credential {
  CredentialKind kind = CredentialKind::kOAuth;
  std::string secret;
};

/// Whether `Current()` can be expected to succeed, and if not, roughly why. Coarse on purpose: the
/// keyless `/health/readiness` shows it (details such as paths, expiry and error text are for the
/// keyed `/health` only; docs/security.md).
enum class Readiness {
  kReady,
  kNotConfigured,  ///< No credential source at all.
  kNotLoggedIn,    ///< No login in the file, logged out, or the refresh token is dead.
  kUnusable,       ///< The file cannot be read or is not a credentials file.
  kExpired,        ///< The token expired and refreshing it currently fails.
};

/// Short stable name of a readiness state, e.g. `"not_logged_in"`.
[[nodiscard]] std::string_view ReadinessName(Readiness readiness);

/// Source of the credential for upstream requests.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;

  /// The credential to use now. May wait (bounded) for a refresh in flight or start one.
  /// Errors: `kServiceUnavailable` with a message saying what to mount or set.
  virtual Awaitable<Result<Credential>> Current() = 0;

  /// Upstream rejected `rejected` (401, or 403 "OAuth token has been revoked"). Returns a
  /// different credential to retry once with, or an error when there is none.
  virtual Awaitable<Result<Credential>> OnRejected(const Credential& rejected) = 0;

  /// State for `/health` and `/health/readiness`: source, expiry, last refresh outcome, and
  /// `refresh_counts` (attempts by outcome, exported as a counter by `/metrics`). No secrets.
  [[nodiscard]] virtual nlohmann::json Status() const = 0;

  /// True when `Current()` can be expected to succeed (for the readiness probe).
  [[nodiscard]] virtual bool Ready() const = 0;

  /// `Ready()` with a coarse reason when not ready. The default knows no reason.
  [[nodiscard]] virtual Readiness ReadinessState() const {
    return Ready() ? Readiness::kReady : Readiness::kNotConfigured;
  }
};

}  // namespace claudegate::credentials
