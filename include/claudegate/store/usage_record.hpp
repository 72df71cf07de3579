/// @file usage_record.hpp
/// One row of the usage ledger (docs/ledger.md): what one model request cost and how it went,
/// never its content. Written in batches by ledger::UsageLedger, read back by the reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace claudegate::store {

struct UsageRecord {
  std::int64_t time_ms = 0;            ///< When the request arrived, Unix milliseconds.
  std::string request_id;              ///< claudegate's `x-request-id`.
  std::string key_token;               ///< A virtual key's token (SHA-256 hex); empty: master key.
  std::string key_alias;               ///< Its alias or `sk-...abcd` name; empty: master key.
  std::string route;                   ///< Route pattern, e.g. `/v1/chat/completions`.
  std::string model;                   ///< The model the client asked for (alias or id).
  std::string model_used;              ///< The Anthropic model id that was called (after fallback).
  bool stream = false;                 ///< The client got a streamed answer.
  std::int64_t input_tokens = 0;       ///< Anthropic's `input_tokens` (without the cached parts).
  std::int64_t output_tokens = 0;      ///< Anthropic's `output_tokens`.
  std::int64_t cache_read_tokens = 0;  ///< `cache_read_input_tokens`.
  std::int64_t cache_write_tokens = 0;  ///< `cache_creation_input_tokens`.
  double cost_usd = 0;                  ///< At API list prices (keys/price_table.hpp).
  int status = 0;                       ///< HTTP status the client got.
  std::string error;                    ///< What went wrong (bounded labels); empty on success.
  std::int64_t latency_ms = 0;          ///< Arrival → reply finished.
  std::optional<std::int64_t> ttft_ms;  ///< Arrival → first streamed content.
  std::string upstream_request_id;      ///< Anthropic's `request-id`, when it answered.
  std::int64_t retries = 0;             ///< Upstream attempts beyond the first.
};

/// Which rows a query reads: `[from_ms, to_ms)` and the optional filters (exact matches).
struct UsageFilter {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::optional<std::string> key_alias;  ///< `master` selects the master key's rows.
  std::optional<std::string> key_token;
  std::optional<std::string> model;  ///< Matches the model asked for or the model used.
  std::optional<std::string> request_id;
};

/// How rows are grouped: any of hour (or day), model, key. With none, one total.
struct UsageGrouping {
  enum class Period { kNone, kHour, kDay };
  Period period = Period::kNone;
  bool by_model = false;  ///< By the model used (the model asked for when none was called).
  bool by_key = false;    ///< By key alias (`master` for the master key).
};

/// The sums of one group. The grouping's unused fields stay empty/zero.
struct UsageSum {
  std::int64_t period_start_ms = 0;  ///< Start of the hour or UTC day; 0 without a period.
  std::string model;
  std::string key_alias;
  std::string key_token;  ///< The key's token when grouped by key (empty for the master key).
  std::int64_t requests = 0;
  std::int64_t errors = 0;   ///< Status >= 400.
  std::int64_t retries = 0;  ///< Upstream attempts beyond the first.
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_read_tokens = 0;
  std::int64_t cache_write_tokens = 0;
  double cost_usd = 0;

  /// Adds `other`'s counts (not its grouping fields) to these.
  void Add(const UsageSum& other) {
    requests += other.requests;
    errors += other.errors;
    retries += other.retries;
    input_tokens += other.input_tokens;
    output_tokens += other.output_tokens;
    cache_read_tokens += other.cache_read_tokens;
    cache_write_tokens += other.cache_write_tokens;
    cost_usd += other.cost_usd;
  }
};

}  // namespace claudegate::store
