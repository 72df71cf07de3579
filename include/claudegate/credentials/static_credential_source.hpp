/// @file static_credential_source.hpp
/// Credential sources that never refresh: a fixed token from the environment, and the "nothing
/// configured" source that explains what to configure.
///
/// @par Thread Safety
/// Immutable after construction except an atomic flag; all methods may be called concurrently.
#pragma once

#include <atomic>
#include <string>

#include "claudegate/credentials/credential_source.hpp"

namespace claudegate::credentials {

/// A fixed credential: `CLAUDE_CODE_OAUTH_TOKEN` (`kOAuth`, from `claude setup-token`, valid a
/// year, cannot be refreshed) or `ANTHROPIC_API_KEY` (`kApiKey`).
class StaticCredentialSource final : public CredentialSource {
 public:
  /// `variable` names where the secret came from, for messages and `/health`.
  StaticCredentialSource(Credential credential, std::string variable);

  /// Always the configured credential.
  Awaitable<Result<Credential>> Current() override;
  /// There is no other credential: `kUpstreamAuthentication` saying how to replace the token
  /// (returns the credential again if `rejected` is not the configured one).
  Awaitable<Result<Credential>> OnRejected(const Credential& rejected) override;
  /// `{"source":"environment","variable","kind":"oauth"|"api_key","refreshable":false,
  /// "rejected_by_upstream":bool}`.
  [[nodiscard]] nlohmann::json Status() const override;
  /// Always true: only the upstream can tell whether the token is still valid.
  [[nodiscard]] bool Ready() const override { return true; }

 private:
  Credential credential_;
  std::string variable_;
  std::atomic<bool> rejected_{false};
};

/// Used when no credential is configured: every call fails with `kServiceUnavailable` and
/// `message`, which says exactly what to set or mount.
class NoCredentialSource final : public CredentialSource {
 public:
  explicit NoCredentialSource(std::string message);

  Awaitable<Result<Credential>> Current() override;
  Awaitable<Result<Credential>> OnRejected(const Credential& rejected) override;
  /// `{"source":"none","error":message}`.
  [[nodiscard]] nlohmann::json Status() const override;
  [[nodiscard]] bool Ready() const override { return false; }

 private:
  std::string message_;
};

}  // namespace claudegate::credentials
