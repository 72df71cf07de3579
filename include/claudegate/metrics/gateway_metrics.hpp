/// @file gateway_metrics.hpp
/// Every metric claudegate exports, in one place, with bounded label cardinality: routes are
/// patterns, models are configured aliases/ids or "other", status is a class (2xx, 4xx, …).
///
/// One instance per process, shared by reference; thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/metrics/plan_state.hpp"
#include "claudegate/metrics/registry.hpp"

namespace claudegate::metrics {

class GatewayMetrics {
 public:
  explicit GatewayMetrics(const config::ModelCatalog& models);

  /// The model label for a requested model: a configured alias or its id, else "other", so a
  /// client cannot create unbounded series.
  [[nodiscard]] std::string ModelLabel(std::string_view requested) const;

  /// Records the outcome of one upstream call for `/health`: an HTTP status, or a transport error.
  void RecordUpstreamResult(unsigned status, std::string_view transport_error = {});
  /// `{"last_status","last_response_at","last_error","last_error_at"}` for `/health`.
  [[nodiscard]] nlohmann::json UpstreamJson() const;

  /// The whole exposition; `open_connections` comes from the listener, `credentials` is the
  /// credential source's Status() (its `refresh_counts` feed the refresh counter).
  [[nodiscard]] std::string Render(std::size_t open_connections, const nlohmann::json& credentials);

  Registry registry;
  CounterFamily& requests;         ///< claudegate_requests_total{route,model,status_class}
  GaugeFamily& in_flight;          ///< claudegate_requests_in_flight
  GaugeFamily& streams_open;       ///< claudegate_streams_open
  HistogramFamily& duration;       ///< claudegate_request_duration_seconds{route,stream}
  HistogramFamily& ttft;           ///< claudegate_time_to_first_token_seconds{route,model}
  HistogramFamily& upstream_time;  ///< claudegate_upstream_response_seconds{route}
  CounterFamily& tokens;           ///< claudegate_tokens_total{model,type}
  CounterFamily& upstream_errors;  ///< claudegate_upstream_errors_total{type}
  CounterFamily& refreshes;        ///< claudegate_credential_refreshes_total{outcome}
  CounterFamily& auth_failures;    ///< claudegate_auth_failures_total{reason}
  CounterFamily& auth_blocks;      ///< claudegate_auth_blocks_total
  CounterFamily& plan_refusals;    ///< claudegate_plan_guard_refusals_total{reason}
  /// claudegate_upstream_refusals_total{kind}: Anthropic's refusals by anthropic::Label.
  CounterFamily& upstream_refusals;
  CounterFamily& upstream_retries;  ///< claudegate_upstream_retries_total{reason}
  CounterFamily& model_fallbacks;   ///< claudegate_model_fallbacks_total{reason}
  /// claudegate_store_writes_total{outcome}: stored-response turns saved, dropped (queue full or
  /// store unavailable) or failed (the database refused the write).
  CounterFamily& store_writes;
  /// claudegate_store_pruned_total{reason}: stored turns removed for age (expired) or size.
  CounterFamily& store_pruned;
  /// claudegate_key_requests_total{key,outcome}: requests with a virtual key by its alias
  /// (`none` for keys without one: the label stays bounded by the keys an administrator made),
  /// admitted or refused by which limit (docs/keys.md).
  CounterFamily& key_requests;
  /// claudegate_key_tokens_total{key,type}: the tokens charged to virtual keys, by alias.
  CounterFamily& key_tokens;
  /// claudegate_usage_rows_total{outcome}: usage ledger rows written, dropped (queue full) or
  /// failed (the database refused a batch; kept and tried again) (docs/ledger.md).
  CounterFamily& usage_rows;
  PlanState plan;

 private:
  void RefreshScrapeGauges(std::size_t open_connections);

  const config::ModelCatalog& models_;
  mutable std::mutex upstream_mutex_;
  unsigned last_status_ = 0;
  std::int64_t last_response_at_ = 0;
  std::string last_error_;
  std::int64_t last_error_at_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::int64_t start_unix_;
  GaugeFamily& plan_status_;
  GaugeFamily& plan_utilization_;
  GaugeFamily& plan_reset_;
  GaugeFamily& plan_overage_;
  GaugeFamily& open_connections_;
  GaugeFamily& rss_;
  GaugeFamily& start_time_;
  GaugeFamily& uptime_;
  GaugeFamily& build_info_;
};

}  // namespace claudegate::metrics
