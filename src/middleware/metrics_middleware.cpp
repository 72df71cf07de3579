#include "claudegate/middleware/metrics_middleware.hpp"

#include "claudegate/middleware/auth.hpp"

namespace claudegate::middleware {
namespace {

std::string StatusClass(unsigned status) {
  if (status == 0) {
    return "none";  // the client left before any response
  }
  return std::to_string(status / 100) + "xx";
}

// Decrements the in-flight gauge however the handler ends (including cancellation).
class InFlight {
 public:
  explicit InFlight(metrics::GaugeFamily& gauge) : gauge_(gauge) { gauge_.Add({}, 1); }
  ~InFlight() { gauge_.Add({}, -1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  metrics::GaugeFamily& gauge_;
};

}  // namespace

Awaitable<server::Outcome> MetricsMiddleware::Handle(server::RequestContext& ctx, Next next) const {
  server::Outcome outcome;
  {
    const InFlight in_flight(metrics_.in_flight);
    outcome = co_await next(ctx);
  }
  const std::string model = metrics_.ModelLabel(ctx.model);
  metrics_.requests.Add({ctx.route, model, StatusClass(outcome.status)});
  metrics_.duration.Observe({ctx.route, ctx.usage.stream ? "true" : "false"}, ctx.ElapsedSeconds());
  const auto& usage = ctx.usage;
  if (usage.ttft_seconds) {
    metrics_.ttft.Observe({ctx.route, model}, *usage.ttft_seconds);
  }
  if (usage.upstream_seconds) {
    metrics_.upstream_time.Observe({ctx.route}, *usage.upstream_seconds);
  }
  if (usage.reported) {
    metrics_.tokens.Add({model, "input"}, static_cast<double>(usage.input_tokens));
    metrics_.tokens.Add({model, "output"}, static_cast<double>(usage.output_tokens));
    metrics_.tokens.Add({model, "cache_read"}, static_cast<double>(usage.cache_read_tokens));
    metrics_.tokens.Add({model, "cache_write"}, static_cast<double>(usage.cache_write_tokens));
  }
  if (!usage.upstream_error.empty()) {
    metrics_.upstream_errors.Add({usage.upstream_error});
  }
  if (!usage.refusal.empty()) {
    metrics_.upstream_refusals.Add({usage.refusal});
  }
  if (ctx.details == kAuthMissing) {
    metrics_.auth_failures.Add({"missing"});
  } else if (ctx.details == kAuthInvalid) {
    metrics_.auth_failures.Add({"invalid"});
  } else if (ctx.details == kAuthInvalidNowBlocked) {
    metrics_.auth_failures.Add({"invalid"});
    metrics_.auth_blocks.Add({});
  } else if (ctx.details == kAuthThrottled) {
    metrics_.auth_failures.Add({"throttled"});
  }
  co_return outcome;
}

}  // namespace claudegate::middleware
