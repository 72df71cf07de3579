/// @file access_log.hpp
/// One log line per request, written after the response (streamed or not) has finished: method,
/// path (without query string), status, bytes, duration, request id, peer, and the reason a
/// middleware answered locally. Never headers, never bodies, so no key or token can appear.
#pragma once

#include <memory>

#include <spdlog/logger.h>

#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// Logs at info level through logging::AccessLogger() (taken at construction); `json` selects
/// one JSON object per line, which the JSON log format embeds as `"msg":{…}` (logging.hpp).
class AccessLogMiddleware final : public Middleware {
 public:
  explicit AccessLogMiddleware(bool json);
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;

 private:
  bool json_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace claudegate::middleware
