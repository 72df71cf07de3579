/// @file key_record.hpp
/// One virtual key as the store keeps it (docs/keys.md): LiteLLM's fields that make sense for
/// claudegate, and the spend so far. The key itself is never stored, only `token`, the SHA-256 of
/// it in hex (LiteLLM calls the hashed key `token` too), and `key_name`, its first and last
/// characters for people to recognise it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace claudegate::store {

struct KeyRecord {
  std::string token;                      ///< SHA-256 of the key, lower-case hex: the primary key.
  std::string key_name;                   ///< `sk-…abcd`: safe to show and log.
  std::optional<std::string> alias;       ///< `key_alias`: unique when set; labels metrics.
  std::vector<std::string> models;        ///< Models it may call; empty means every model.
  std::optional<std::int64_t> rpm_limit;  ///< Requests per minute.
  std::optional<std::int64_t> tpm_limit;  ///< Tokens (in + out) per minute.
  std::optional<std::int64_t> max_parallel_requests;
  std::optional<double> max_budget;             ///< USD at API prices (keys/price_table.hpp).
  std::optional<std::int64_t> budget_duration;  ///< Seconds; the spend resets after each period.
  std::optional<std::int64_t> budget_reset_at;  ///< Unix seconds of the next reset.
  double spend = 0;                             ///< USD since the last reset.
  std::optional<std::int64_t> expires_at;       ///< Unix seconds; refused from then on.
  bool blocked = false;
  std::string metadata = "{}";  ///< The client's JSON object, kept as text.
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  friend bool operator==(const KeyRecord&, const KeyRecord&) = default;
};

/// The spend of one key, as the gateway flushes it (once a second, only keys that changed).
struct KeySpend {
  std::string token;
  double spend = 0;
  std::optional<std::int64_t> budget_reset_at;
};

}  // namespace claudegate::store
