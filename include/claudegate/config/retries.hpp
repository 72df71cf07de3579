/// @file retries.hpp
/// Settings for retrying a failed upstream call and for falling back to another model
/// (docs/configuration.md, "Retries and fallbacks"; the rules: docs/architecture.md, "The exchange
/// and the pump"). LiteLLM's names are accepted (`num_retries`, `request_timeout`, `retry_after`,
/// `fallbacks`, `context_window_fallbacks`); the backoff shape is claudegate's own.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace claudegate::config {

/// One `fallbacks` entry: when `model` fails, try `targets` in order. Names are model aliases or
/// ids, resolved through the model catalog when a request needs them.
struct FallbackRule {
  std::string model;
  std::vector<std::string> targets;
};

/// Retries of one upstream call, and the models tried after it.
struct Retries {
  /// Retries after the first attempt, per model (`num_retries`); 0 turns retrying off.
  unsigned num_retries = 2;
  /// Total time a request may spend on attempts and waits before the last retry starts
  /// (`request_timeout`, seconds in LiteLLM). Well under the clients' own timeouts (openai-node:
  /// 10 min; Claude Code: 10 min), so a client never gives up before the gateway does.
  std::chrono::milliseconds budget{30'000};
  /// The first backoff; doubled per retry up to `max_backoff`, less up to 25 % jitter.
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{8'000};
  /// The shortest wait before any retry (LiteLLM's `retry_after`, seconds there).
  std::chrono::milliseconds min_delay{0};
  /// A 200 event stream is read ahead until its first content event, at most this many bytes,
  /// so that an `overloaded_error` sent as its first event can still be retried unseen.
  std::size_t read_ahead_bytes = 64U * 1024U;
  /// `fallbacks`: a model that stays overloaded or unavailable, or that the plan refuses.
  std::vector<FallbackRule> fallbacks;
  /// `context_window_fallbacks`: a prompt too long for the model.
  std::vector<FallbackRule> context_window_fallbacks;
};

}  // namespace claudegate::config
