#include "claudegate/middleware/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace claudegate::middleware {

KeyDigest DigestKey(std::string_view key) {
  KeyDigest digest{};
  unsigned int length = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

std::string_view PresentedKey(const server::Request& request) {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view authorization = request[http::field::authorization];
  if (authorization.size() > kBearer.size()) {
    // The scheme is case-insensitive (RFC 9110 §11.1).
    const std::string_view scheme = authorization.substr(0, kBearer.size());
    if (beast::iequals(scheme, kBearer)) {
      std::string_view key = authorization.substr(kBearer.size());
      while (!key.empty() && key.front() == ' ') {
        key.remove_prefix(1);
      }
      return key;
    }
  }
  return request["x-api-key"];
}

bool IsPublicPath(std::string_view path) {
  return path == "/health/liveliness" || path == "/health/liveness" ||
         path == "/health/readiness";
}

bool AuthMiddleware::Accepts(std::string_view presented) const {
  if (presented.empty()) {
    return false;
  }
  const KeyDigest digest = DigestKey(presented);
  return CRYPTO_memcmp(digest.data(), expected_.data(), digest.size()) == 0;
}

Awaitable<Outcome> AuthMiddleware::Handle(RequestContext& ctx, Next next) const {
  if (IsPublicPath(ctx.Path()) || (metrics_public_ && ctx.Path() == "/metrics")) {
    co_return co_await next(ctx);
  }
  const std::string_view presented = PresentedKey(ctx.request);
  if (presented.empty()) {
    co_return co_await LocalReply(
        ctx,
        Error{ErrorKind::kAuthentication,
              "Missing API key. Send the gateway's master key (LITELLM_MASTER_KEY) as "
              "'Authorization: Bearer sk-...' or 'x-api-key: sk-...'.",
              {}, "invalid_api_key"},
        "auth_missing");
  }
  if (!Accepts(presented)) {
    co_return co_await LocalReply(
        ctx,
        Error{ErrorKind::kAuthentication,
              "Invalid API key. Use the gateway's master key (LITELLM_MASTER_KEY).", {},
              "invalid_api_key"},
        "auth_invalid");
  }
  co_return co_await next(ctx);
}

}  // namespace claudegate::middleware
