/// @file request_id.hpp
/// Gives every request an id: the client's `x-request-id` when it is sane, else a fresh one; the
/// id is echoed back in the `x-request-id` response header and appears in the access log.
#pragma once

#include <string>
#include <string_view>

#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// Stateless; safe on any thread.
class RequestIdMiddleware final : public Middleware {
 public:
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;
};

/// True when `id` may be adopted as is: 1–128 characters of [A-Za-z0-9._:-]. Anything else is
/// replaced, so ids can't inject into logs or headers.
[[nodiscard]] bool IsAcceptableRequestId(std::string_view id);

/// A new random id, `req_` + 24 hex digits.
[[nodiscard]] std::string GenerateRequestId();

}  // namespace claudegate::middleware
