#include "claudegate/routes/health_handler.hpp"

#include "claudegate/config/loader.hpp"

namespace claudegate::routes {

Awaitable<server::Outcome> HealthHandler::Liveness(server::RequestContext& ctx) const {
  // LiteLLM answers this probe with the JSON string "I'm alive!"; keep it for drop-in probes.
  co_return co_await server::JsonReply(ctx, 200, R"("I'm alive!")");
}

Awaitable<server::Outcome> HealthHandler::Readiness(server::RequestContext& ctx) const {
  // Keyless: only ready or not, with a coarse reason. The credentials path, subscription type,
  // exact expiry and token-endpoint error text are for the keyed /health (docs/security.md).
  const credentials::Readiness state = credentials_.ReadinessState();
  const bool ready = state == credentials::Readiness::kReady;
  nlohmann::json body = {{"status", ready ? "healthy" : "unhealthy"}};
  if (!ready) {
    body["reason"] = credentials::ReadinessName(state);
  }
  co_return co_await server::JsonReply(ctx, ready ? 200 : 503, body.dump());
}

nlohmann::json HealthHandler::Upstream() const {
  nlohmann::json upstream = metrics_.UpstreamJson();
  upstream["base_url"] = config::RedactUrlUserinfo(config_.upstream.base_url);
  return upstream;
}

Awaitable<server::Outcome> HealthHandler::Detailed(server::RequestContext& ctx) const {
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  const nlohmann::json body = {{"status", credentials_.Ready() ? "healthy" : "unhealthy"},
                               {"version", CLAUDEGATE_VERSION},
                               {"uptime_seconds", uptime},
                               {"credentials", credentials_.Status()},
                               {"plan", metrics_.plan.ToJson()},
                               {"plan_guard", config_.plan_guard.enabled},
                               {"upstream", Upstream()}};
  co_return co_await server::JsonReply(ctx, 200, body.dump());
}

}  // namespace claudegate::routes

namespace claudegate::routes {

Awaitable<server::Outcome> HealthHandler::Metrics(server::RequestContext& ctx,
                                                  std::size_t open_connections) const {
  std::string body = metrics_.Render(open_connections, credentials_.Status());
  co_await ctx.sink.Send(200, "text/plain; version=0.0.4; charset=utf-8", std::move(body));
  co_return server::Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

}  // namespace claudegate::routes
