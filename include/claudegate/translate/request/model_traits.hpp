/// @file model_traits.hpp
/// What the translator needs to know about a Claude model to build a request it will accept
/// (docs/anthropic-notes.md#max-tokens to #reasoning-effort, and #prefill). The built-in table
/// reflects those notes; callers can pass their
/// own `ModelTraits` (e.g. derived from a cached `GET /v1/models/{id}`) through `TranslateOptions`.
///
/// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace claudegate::translate {

/// How a model thinks, if at all.
enum class ThinkingStyle {
  kNone,      ///< No extended thinking (Claude 3 models before 3.7).
  kBudget,    ///< `thinking:{type:"enabled", budget_tokens}` only (Haiku/Sonnet/Opus 4.5).
  kAdaptive,  ///< `thinking:{type:"adaptive"}` plus `output_config.effort`.
};

/// Per-model capabilities and restrictions.
struct ModelTraits {
  bool accepts_sampling = false;  ///< temperature/top_p/top_k accepted (models up to 4.6).
  ThinkingStyle thinking = ThinkingStyle::kAdaptive;
  bool thinking_default_on = false;     ///< Adaptive thinking runs when `thinking` is omitted.
  bool can_disable_thinking = true;     ///< `thinking:{type:"disabled"}` accepted.
  bool supports_between_tools = false;  ///< `thinking:{type:"between_tools"}` (Sonnet 5.5).
  bool supports_effort = true;          ///< `output_config.effort` accepted.
  bool supports_xhigh_effort = true;
  bool supports_max_effort = true;
  bool forced_tool_choice_ok = true;   ///< `tool_choice` `any`/`tool` accepted.
  bool structured_outputs = true;      ///< `output_config.format` accepted.
  bool supports_prefill = true;        ///< A trailing assistant message is accepted.
  std::int64_t max_output_tokens = 0;  ///< Upper bound for `max_tokens`; 0 when unknown.
};

/// The built-in traits for an upstream model id (a date suffix such as `-20251001` is ignored).
/// Unknown `claude-` ids get the traits of the newest generation with permissive defaults, so the
/// upstream, not the gateway, rejects what a new model does not support.
[[nodiscard]] ModelTraits DefaultModelTraits(std::string_view model_id);

}  // namespace claudegate::translate
