/// @file auth.hpp
/// Checks the client's key, from `Authorization: Bearer <key>` or `x-api-key: <key>`: the master
/// key, or a virtual key of the KeyRegistry (docs/keys.md), whose token it leaves in
/// `ctx.key_token` for the key limits (key_limits.hpp). A blocked key gets 403, an expired one 401.
///
/// Keys are compared as SHA-256 digests with `CRYPTO_memcmp`, so neither the length nor the
/// content of the configured key leaks through timing. Health probes are exempt. A refusal is a
/// 401 in the route's own error shape; the presented key is never logged.
///
/// Wrong keys are counted per client (auth_throttle.hpp): a client over the limit gets 429 with
/// Retry-After for every request until its block ends, whatever key it presents, so a block
/// cannot be used as an oracle.
///
/// The check runs once per request, at header time: the session calls `Check()` (the header gate)
/// before `100 Continue` or any body byte, so a keyless or throttled client costs O(header). The
/// refusal decided there is answered when the pipeline reaches this middleware.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "claudegate/keys/key_registry.hpp"
#include "claudegate/keys/key_text.hpp"
#include "claudegate/middleware/auth_throttle.hpp"
#include "claudegate/middleware/client_address.hpp"
#include "claudegate/middleware/header_gate.hpp"
#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// SHA-256 digest (keys/key_text.hpp).
using KeyDigest = keys::KeyDigest;

/// Digest of `key`.
[[nodiscard]] inline KeyDigest DigestKey(std::string_view key) { return keys::Sha256(key); }

/// The key a request presents, or empty. Bearer wins over x-api-key when both are present.
[[nodiscard]] std::string_view PresentedKey(const server::Request& request);

/// True for routes that need no key (liveness/readiness probes).
[[nodiscard]] bool IsPublicPath(std::string_view path);

/// True for a GET of the dashboard's files (`/ui`, `/ui/…`): public, they hold no data.
[[nodiscard]] bool IsPublicUiFile(const server::RequestContext& ctx);

/// The `details` an auth refusal leaves in the request context (access log, metrics).
inline constexpr std::string_view kAuthMissing = "auth_missing";
inline constexpr std::string_view kAuthInvalid = "auth_invalid";
inline constexpr std::string_view kAuthInvalidNowBlocked = "auth_invalid_now_blocked";
inline constexpr std::string_view kAuthThrottled = "auth_throttled";

/// Safe on any thread (the throttle has its own lock).
class AuthMiddleware final : public Middleware, public HeaderGate {
 public:
  /// `metrics_public`: serve `/metrics` without a key (for scrapers on a private network).
  /// `throttle`: limits on wrong keys per client; `trusted_proxies`: whose X-Forwarded-For to
  /// believe when telling clients apart; `keys`: the virtual keys (null: the master key only),
  /// which must outlive the middleware.
  explicit AuthMiddleware(std::string_view master_key, bool metrics_public = false,
                          AuthThrottleSettings throttle = {.max_failures = 0},
                          TrustedProxies trusted_proxies = {},
                          const keys::KeyRegistry* keys = nullptr)
      : expected_(DigestKey(master_key)),
        metrics_public_(metrics_public),
        throttle_(throttle),
        trusted_proxies_(std::move(trusted_proxies)),
        keys_(keys) {}
  /// Answers the refusal `Check()` decided, or passes the request on. Runs `Check()` itself when
  /// no session did (a pipeline driven directly, as in tests).
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;

  /// The header gate: kReadBody for the right key, kHeaderOnly for health probes (no key needed,
  /// no body used) and for refusals (missing or wrong key: 401; throttled client: 429). Counts a
  /// wrong key against the client's throttle, once per request.
  HeaderVerdict Check(server::RequestContext& ctx) const override;

  /// Constant-time check of a presented key.
  [[nodiscard]] bool Accepts(std::string_view presented) const;

 private:
  // The refusal for `ctx`, or nullopt when its key is right (a virtual key's token is then in
  // ctx.key_token).
  std::optional<server::HeaderRefusal> Decide(server::RequestContext& ctx) const;

  KeyDigest expected_;
  bool metrics_public_;
  mutable AuthThrottle throttle_;  // mutable: its own mutex guards it
  TrustedProxies trusted_proxies_;
  const keys::KeyRegistry* keys_;
};

}  // namespace claudegate::middleware
