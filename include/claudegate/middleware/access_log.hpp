/// @file access_log.hpp
/// One log line per request, written after the response (streamed or not) has finished: method,
/// path (without query string), status, bytes, duration, request id, peer, and the reason a
/// middleware answered locally. Never headers, never bodies, so no key or token can appear.
#pragma once

#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// Logs through spdlog's default logger at info level; `json` selects JSON lines.
class AccessLogMiddleware final : public Middleware {
 public:
  explicit AccessLogMiddleware(bool json) : json_(json) {}
  Awaitable<Outcome> Handle(RequestContext& ctx, Next next) const override;

 private:
  bool json_;
};

}  // namespace claudegate::middleware
