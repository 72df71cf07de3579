#include "claudegate/middleware/auth.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

namespace claudegate::middleware {

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
  return path == "/health/liveliness" || path == "/health/liveness" || path == "/health/readiness";
}

bool IsPublicUiFile(const server::RequestContext& ctx) {
  // The dashboard's files hold no data (routes/ui_handler.hpp) and must load before the user has
  // entered the key the page then sends. GET only: a body to them is never read unauthenticated.
  const std::string_view path = ctx.Path();
  return ctx.request.method() == http::verb::get && (path == "/ui" || path.starts_with("/ui/"));
}

bool AuthMiddleware::Accepts(std::string_view presented) const {
  if (presented.empty()) {
    return false;
  }
  const KeyDigest digest = DigestKey(presented);
  return CRYPTO_memcmp(digest.data(), expected_.data(), digest.size()) == 0;
}

namespace {

server::HeaderRefusal Throttled(AuthThrottle::Clock::duration remaining) {
  // Round up: a client that waits exactly Retry-After seconds must find the block over.
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(remaining).count();
  server::HeaderList headers;
  headers.emplace_back("retry-after", std::to_string(seconds));
  headers.emplace_back("x-should-retry", "false");  // SDK retries would only extend the wait
  const std::string message =
      "Too many requests with a wrong API key from this address; try "
      "again in " +
      std::to_string(seconds) + " s.";
  return {Error(ErrorKind::kRateLimited, message, {}, "auth_throttled"),
          std::string(kAuthThrottled), std::move(headers)};
}

}  // namespace

std::optional<server::HeaderRefusal> AuthMiddleware::Decide(server::RequestContext& ctx) const {
  // Who the client is matters only once some client has a wrong key on record.
  std::string client;
  auto client_key = [&]() -> const std::string& {
    if (client.empty()) {
      client = ClientKey(ctx.peer, ctx.request, trusted_proxies_);
    }
    return client;
  };
  if (throttle_.enabled() && throttle_.HasRecords()) {
    const auto blocked = throttle_.BlockedFor(client_key(), AuthThrottle::Clock::now());
    if (blocked) {
      return Throttled(*blocked);
    }
  }
  const std::string_view presented = PresentedKey(ctx.request);
  if (presented.empty()) {
    return server::HeaderRefusal{
        Error{ErrorKind::kAuthentication,
              "Missing API key. Send the gateway's master key (LITELLM_MASTER_KEY) or a virtual "
              "key as 'Authorization: Bearer sk-...' or 'x-api-key: sk-...'.",
              {},
              "invalid_api_key"},
        std::string(kAuthMissing),
        {}};
  }
  // A right key does not clear the client's failures (docs/security.md#brute-force): they expire
  // with the window, or an attacker sharing the owner's address would get fresh guesses.
  if (Accepts(presented)) {
    return std::nullopt;
  }
  if (keys_ != nullptr) {
    if (auto token = keys_->Find(presented)) {
      if (auto refusal = keys_->CheckStanding(*token)) {
        server::HeaderList headers;
        return server::HeaderRefusal{std::move(refusal->error), std::move(refusal->details),
                                     std::move(headers)};
      }
      ctx.key_token = std::move(*token);
      ctx.key_label = keys_->Label(ctx.key_token);
      return std::nullopt;
    }
  }
  std::string details(kAuthInvalid);
  if (throttle_.RecordFailure(client_key(), AuthThrottle::Clock::now())) {
    details = kAuthInvalidNowBlocked;
    // The address is not a secret, and the owner needs it to tell an attack from a typo.
    spdlog::warn("auth: {} wrong keys from {}; refusing it for {} s",
                 throttle_.settings().max_failures, client,
                 std::chrono::ceil<std::chrono::seconds>(throttle_.settings().block).count());
  }
  return server::HeaderRefusal{
      Error{ErrorKind::kAuthentication,
            "Invalid API key. Use the gateway's master key (LITELLM_MASTER_KEY) or a virtual "
            "key it generated (POST /key/generate).",
            {},
            "invalid_api_key"},
      std::move(details),
      {}};
}

HeaderVerdict AuthMiddleware::Check(server::RequestContext& ctx) const {
  ctx.header_checked = true;
  if (IsPublicPath(ctx.Path()) || IsPublicUiFile(ctx) ||
      (metrics_public_ && ctx.Path() == "/metrics")) {
    return HeaderVerdict::kHeaderOnly;
  }
  ctx.refusal = Decide(ctx);
  return ctx.refusal ? HeaderVerdict::kHeaderOnly : HeaderVerdict::kReadBody;
}

Awaitable<server::Outcome> AuthMiddleware::Handle(server::RequestContext& ctx, Next next) const {
  if (!ctx.header_checked) {
    Check(ctx);
  }
  if (ctx.refusal) {
    const server::HeaderRefusal refusal = std::move(*ctx.refusal);
    ctx.refusal.reset();
    co_return co_await server::LocalReply(ctx, refusal.error, refusal.details, refusal.headers);
  }
  co_return co_await next(ctx);
}

}  // namespace claudegate::middleware
