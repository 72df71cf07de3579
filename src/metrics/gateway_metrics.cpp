#include "claudegate/metrics/gateway_metrics.hpp"

#include <charconv>
#include <fstream>

#include <unistd.h>

namespace claudegate::metrics {
namespace {

// Request durations span health probes (sub-millisecond) to long generations (minutes).
const std::vector<double> kDurationBuckets = {0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1,  2.5,
                                              5,     10,    30,    60,  120,  300, 600};
const std::vector<double> kFirstTokenBuckets = {0.05, 0.1, 0.25, 0.5, 1,  2,  3,
                                                5,    8,   13,   20,  30, 60, 120};

double ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages_total = 0;
  std::size_t pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

std::optional<double> Number(const std::string& text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

GatewayMetrics::GatewayMetrics(const config::ModelCatalog& models)
    : requests(registry.Counter("claudegate_requests_total",
                                "Requests answered, by route pattern, model and status class.",
                                {"route", "model", "status_class"})),
      in_flight(registry.Gauge("claudegate_requests_in_flight", "Requests being served now.", {})),
      streams_open(registry.Gauge("claudegate_streams_open", "Streaming responses open now.", {})),
      duration(registry.Histogram("claudegate_request_duration_seconds",
                                  "Time from request received to response finished.",
                                  {"route", "stream"}, kDurationBuckets)),
      ttft(registry.Histogram("claudegate_time_to_first_token_seconds",
                              "Time from request received to the first streamed content byte.",
                              {"route", "model"}, kFirstTokenBuckets)),
      upstream_time(registry.Histogram("claudegate_upstream_response_seconds",
                                       "Time from sending upstream to the response headers.",
                                       {"route"}, kDurationBuckets)),
      tokens(registry.Counter("claudegate_tokens_total",
                              "Tokens reported by Anthropic, by model and type (input, output, "
                              "cache_read, cache_write).",
                              {"model", "type"})),
      upstream_errors(registry.Counter("claudegate_upstream_errors_total",
                                       "Upstream failures by Anthropic error type, or connection/"
                                       "timeout for transport failures.",
                                       {"type"})),
      refreshes(registry.Counter("claudegate_credential_refreshes_total",
                                 "OAuth credential refresh attempts by outcome.", {"outcome"})),
      auth_failures(registry.Counter("claudegate_auth_failures_total",
                                     "Requests refused for a missing or wrong master key, or "
                                     "from a client blocked for too many wrong keys "
                                     "(reason=throttled).",
                                     {"reason"})),
      auth_blocks(registry.Counter("claudegate_auth_blocks_total",
                                   "Times a client was blocked for too many wrong keys.", {})),
      plan_refusals(registry.Counter("claudegate_plan_guard_refusals_total",
                                     "Requests refused by the opt-in plan guard, by refusal kind.",
                                     {"reason"})),
      upstream_refusals(registry.Counter("claudegate_upstream_refusals_total",
                                         "Anthropic's refusals by kind (five_hour_limit, "
                                         "model_limit, long_context_extra_usage, rate_limit, ...).",
                                         {"kind"})),
      upstream_retries(registry.Counter("claudegate_upstream_retries_total",
                                        "Upstream attempts sent again after a failure that "
                                        "reached no client, by what failed.",
                                        {"reason"})),
      model_fallbacks(registry.Counter("claudegate_model_fallbacks_total",
                                       "Requests sent to a fallback model, by what failed.",
                                       {"reason"})),
      store_writes(registry.Counter("claudegate_store_writes_total",
                                    "Stored-response turns by outcome: saved, dropped (queue full "
                                    "or store unavailable), failed (database error).",
                                    {"outcome"})),
      store_pruned(registry.Counter("claudegate_store_pruned_total",
                                    "Stored-response turns pruned, by reason (expired, size).",
                                    {"reason"})),
      key_requests(registry.Counter("claudegate_key_requests_total",
                                    "Requests with a virtual key, by the key's alias and outcome "
                                    "(admitted, or the limit that refused it).",
                                    {"key", "outcome"})),
      key_tokens(registry.Counter("claudegate_key_tokens_total",
                                  "Tokens charged to virtual keys, by the key's alias and type "
                                  "(input, output, cache_read, cache_write).",
                                  {"key", "type"})),
      usage_rows(registry.Counter("claudegate_usage_rows_total",
                                  "Usage ledger rows by outcome: written, dropped (queue full), "
                                  "failed (a batch the database refused; retried).",
                                  {"outcome"})),
      models_(models),
      start_unix_(std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()),
      plan_status_(registry.Gauge("claudegate_plan_status",
                                  "1 for the subscription's current unified rate-limit status "
                                  "(allowed, allowed_warning, rejected) and representative claim.",
                                  {"status", "claim"})),
      plan_utilization_(registry.Gauge("claudegate_plan_utilization_ratio",
                                       "Utilisation (0-1) of each plan window (5h, 7d, ...).",
                                       {"window"})),
      plan_reset_(registry.Gauge("claudegate_plan_reset_timestamp_seconds",
                                 "When each plan window resets (unix seconds); window=\"current\" "
                                 "for the representative limit.",
                                 {"window"})),
      plan_overage_(registry.Gauge("claudegate_plan_overage_in_use",
                                   "1 when requests draw on paid extra usage.", {})),
      open_connections_(
          registry.Gauge("claudegate_open_connections", "Client connections open now.", {})),
      rss_(registry.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {})),
      start_time_(registry.Gauge("process_start_time_seconds",
                                 "Start time of the process since the unix epoch in seconds.", {})),
      uptime_(registry.Gauge("claudegate_uptime_seconds", "Seconds since start.", {})),
      build_info_(registry.Gauge("claudegate_build_info", "Always 1; the version as a label.",
                                 {"version"})) {
  build_info_.Set({CLAUDEGATE_VERSION}, 1);
  start_time_.Set({}, static_cast<double>(start_unix_));
  in_flight.Set({}, 0);
  streams_open.Set({}, 0);
}

void GatewayMetrics::RecordUpstreamResult(unsigned status, std::string_view transport_error) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::lock_guard lock(upstream_mutex_);
  if (transport_error.empty()) {
    last_status_ = status;
    last_response_at_ = now;
  } else {
    last_error_ = std::string(transport_error);
    last_error_at_ = now;
  }
}

nlohmann::json GatewayMetrics::UpstreamJson() const {
  const std::lock_guard lock(upstream_mutex_);
  nlohmann::json out = nlohmann::json::object();
  if (last_response_at_ > 0) {
    out["last_status"] = last_status_;
    out["last_response_at"] = IsoTime(last_response_at_);
  }
  if (last_error_at_ > 0) {
    out["last_error"] = last_error_;
    out["last_error_at"] = IsoTime(last_error_at_);
  }
  out["reachable"] = last_response_at_ >= last_error_at_ && last_response_at_ > 0;
  return out;
}

std::string GatewayMetrics::ModelLabel(std::string_view requested) const {
  if (requested.empty()) {
    return "none";
  }
  for (const auto& alias : models_.aliases()) {
    if (alias.name == requested || alias.upstream_id == requested) {
      return std::string(requested);
    }
  }
  return "other";
}

void GatewayMetrics::RefreshScrapeGauges(std::size_t open_connections) {
  open_connections_.Set({}, static_cast<double>(open_connections));
  rss_.Set({}, ResidentBytes());
  uptime_.Set({},
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());

  const auto headers = plan.Headers();
  plan_status_.Clear();
  plan_utilization_.Clear();
  plan_reset_.Clear();
  plan_overage_.Clear();
  if (headers.empty()) {
    return;
  }
  auto get = [&headers](const std::string& key) {
    const auto it = headers.find(key);
    return it == headers.end() ? std::string() : it->second;
  };
  const std::string status = get("status").empty() ? "allowed" : get("status");
  plan_status_.Set({status, get("representative-claim")}, 1);
  if (auto reset = Number(get("reset"))) {
    plan_reset_.Set({"current"}, *reset);
  }
  plan_overage_.Set({}, get("overage-in-use") == "true" ? 1 : 0);
  for (const auto& [key, value] : headers) {
    constexpr std::string_view kUtilization = "-utilization";
    if (key.ends_with(kUtilization) && key.size() > kUtilization.size()) {
      const std::string window = key.substr(0, key.size() - kUtilization.size());
      if (auto utilization = Number(value)) {
        plan_utilization_.Set({window}, *utilization);
      }
      if (auto reset = Number(get(window + "-reset"))) {
        plan_reset_.Set({window}, *reset);
      }
    }
  }
}

std::string GatewayMetrics::Render(std::size_t open_connections,
                                   const nlohmann::json& credentials) {
  RefreshScrapeGauges(open_connections);
  if (const auto counts = credentials.find("refresh_counts");
      counts != credentials.end() && counts->is_object()) {
    for (const auto& [outcome, count] : counts->items()) {
      if (count.is_number()) {
        refreshes.Set({outcome}, count.get<double>());
      }
    }
  }
  return registry.Render();
}

}  // namespace claudegate::metrics
