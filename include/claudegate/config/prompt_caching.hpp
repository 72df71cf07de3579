/// @file prompt_caching.hpp
/// Settings for automatic prompt caching: whether claudegate adds Anthropic `cache_control`
/// breakpoints to requests that carry none, with which TTL, and LiteLLM's per-model
/// `cache_control_injection_points`. How the breakpoints are placed: docs/prompt-caching.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace claudegate::config {

/// `claudegate.prompt_caching`.
enum class PromptCachingMode {
  kAuto,  ///< Add breakpoints to requests without any of their own (the default).
  kOff,   ///< Never add breakpoints; client markers still pass through.
};

/// `claudegate.prompt_cache_ttl`: Anthropic's two cache lifetimes. A 5-minute write costs 1.25×
/// the input price, a 1-hour write 2×; a read costs 0.1× either way (docs/prompt-caching.md).
enum class CacheTtl {
  kFiveMinutes,  ///< `{"type":"ephemeral"}` (Anthropic's default lifetime).
  kOneHour,      ///< `{"type":"ephemeral","ttl":"1h"}`.
};

/// One LiteLLM `cache_control_injection_points` entry with `location: message`: mark the message
/// at `index` (negative counts from the end), or every message with `role`. `index` wins when
/// both are given, as in LiteLLM.
struct CacheInjectionPoint {
  std::optional<std::string> role;  ///< `system`, `user`, `assistant` or `tool`.
  std::optional<int> index;         ///< Into [system prompt, messages…] as Anthropic sees them.
  std::optional<CacheTtl> ttl;      ///< `control.ttl`; the global TTL when absent.
};

/// Everything the gateway needs to decide on cache breakpoints.
struct PromptCaching {
  PromptCachingMode mode = PromptCachingMode::kAuto;
  CacheTtl ttl = CacheTtl::kFiveMinutes;
  /// Also mark `/v1/messages` requests (`claudegate.prompt_caching_messages`). Off by default:
  /// Claude Code and the Anthropic SDKs place their own breakpoints.
  bool messages_route = false;
  /// `model_list[].litellm_params.cache_control_injection_points`, by `model_name`. A model with
  /// points gets exactly those instead of the automatic placement.
  std::map<std::string, std::vector<CacheInjectionPoint>, std::less<>> injection_points;
};

}  // namespace claudegate::config
