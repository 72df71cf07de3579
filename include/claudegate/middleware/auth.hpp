/// @file auth.hpp
/// Checks the client's master key, from `Authorization: Bearer <key>` or `x-api-key: <key>`.
///
/// Keys are compared as SHA-256 digests with `CRYPTO_memcmp`, so neither the length nor the
/// content of the configured key leaks through timing. Health probes are exempt. A refusal is a
/// 401 in the route's own error shape; the presented key is never logged.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// SHA-256 digest.
using KeyDigest = std::array<unsigned char, 32>;

/// Digest of `key`.
[[nodiscard]] KeyDigest DigestKey(std::string_view key);

/// The key a request presents, or empty. Bearer wins over x-api-key when both are present.
[[nodiscard]] std::string_view PresentedKey(const server::Request& request);

/// True for routes that need no key (liveness/readiness probes).
[[nodiscard]] bool IsPublicPath(std::string_view path);

/// Immutable after construction; safe on any thread.
class AuthMiddleware final : public Middleware {
 public:
  /// `metrics_public`: serve `/metrics` without a key (for scrapers on a private network).
  explicit AuthMiddleware(std::string_view master_key, bool metrics_public = false)
      : expected_(DigestKey(master_key)), metrics_public_(metrics_public) {}
  Awaitable<Outcome> Handle(RequestContext& ctx, Next next) const override;

  /// Constant-time check of a presented key.
  [[nodiscard]] bool Accepts(std::string_view presented) const;

 private:
  KeyDigest expected_;
  bool metrics_public_;
};

}  // namespace claudegate::middleware
