#include "claudegate/middleware/request_id.hpp"

#include <array>
#include <random>

namespace claudegate::middleware {

bool IsAcceptableRequestId(std::string_view id) {
  constexpr std::size_t kMaxLength = 128;
  if (id.empty() || id.size() > kMaxLength) {
    return false;
  }
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string GenerateRequestId() {
  // Not a secret, only unique: a per-thread PRNG seeded once from the OS is plenty.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string id = "req_";
  for (int word = 0; word < 2; ++word) {
    std::uint64_t bits = generator();
    for (int i = 0; i < (word == 0 ? 16 : 8); ++i) {
      id.push_back(kHex[bits & 0xFU]);
      bits >>= 4U;
    }
  }
  return id;
}

Awaitable<server::Outcome> RequestIdMiddleware::Handle(server::RequestContext& ctx,
                                                       Next next) const {
  const auto incoming = ctx.request["x-request-id"];
  ctx.request_id = IsAcceptableRequestId(incoming) ? std::string(incoming) : GenerateRequestId();
  ctx.sink.AddHeader("x-request-id", ctx.request_id);
  co_return co_await next(ctx);
}

}  // namespace claudegate::middleware
