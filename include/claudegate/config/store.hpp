/// @file store.hpp
/// Settings of the embedded store (docs/configuration.md, "The store"): where the SQLite database
/// lives and how much it may keep. `claudegate.store.*` in the YAML, `CLAUDEGATE_DATA_DIR` in the
/// environment.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace claudegate::config {

struct Store {
  /// `claudegate.store.enabled`: false keeps nothing (`store: true` requests are answered, and a
  /// later lookup is a 404/503 as for an unavailable store).
  bool enabled = true;
  /// The data directory (`CLAUDEGATE_DATA_DIR`, `claudegate.store.data_dir`). Empty here means
  /// "none": LoadConfig() fills in the platform default ($XDG_STATE_HOME/claudegate, else
  /// ~/.local/state/claudegate); a Config built by hand (tests) keeps it empty and gets no store.
  std::string data_dir;
  /// `claudegate.store.responses_ttl`: stored responses older than this are invisible and pruned.
  /// 30 days, as OpenAI keeps them (https://platform.openai.com/docs/api-reference/responses).
  std::chrono::seconds responses_ttl{std::chrono::hours(24 * 30)};
  /// `claudegate.store.usage_ttl`: usage ledger rows older than this are pruned (docs/ledger.md).
  std::chrono::seconds usage_ttl{std::chrono::hours(24 * 90)};
  /// `claudegate.store.max_size_mb`: the oldest turns are pruned when the data takes more.
  std::uint64_t max_size_mb = 1024;
  /// `claudegate.store.max_queued_writes`: turns waiting to be written; more are dropped and
  /// counted (claudegate_store_writes_total{outcome="dropped"}), the reply never waits.
  std::size_t max_queued_writes = 1024;
};

}  // namespace claudegate::config
