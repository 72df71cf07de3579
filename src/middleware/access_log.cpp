#include "claudegate/middleware/access_log.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace claudegate::middleware {

Awaitable<Outcome> AccessLogMiddleware::Handle(RequestContext& ctx, Next next) const {
  const Outcome outcome = co_await next(ctx);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - ctx.start)
                          .count();
  const double millis = static_cast<double>(micros) / 1000.0;
  const std::string_view method = ctx.request.method_string();
  if (json_) {
    nlohmann::json line = {{"type", "access"},        {"method", method},
                           {"path", ctx.Path()},      {"route", ctx.route},
                           {"status", outcome.status}, {"bytes", outcome.bytes},
                           {"duration_ms", millis},   {"request_id", ctx.request_id},
                           {"peer", ctx.peer}};
    if (!ctx.model.empty()) {
      line["model"] = ctx.model;
    }
    if (!ctx.details.empty()) {
      line["details"] = ctx.details;
    }
    spdlog::info(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    // The path is client-controlled: it is logged escaped by spdlog's {} formatting of a
    // string_view, and Beast already rejected control characters in the request target.
    spdlog::info("{} {} {} {}B {:.3f}ms id={} peer={}{}{}", method, ctx.Path(), outcome.status,
                 outcome.bytes, millis, ctx.request_id, ctx.peer,
                 ctx.details.empty() ? "" : " details=", ctx.details);
  }
  co_return outcome;
}

}  // namespace claudegate::middleware
