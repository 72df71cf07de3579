/// @file cache_breakpoints.hpp
/// Automatic prompt caching: adds Anthropic `cache_control` breakpoints to a Messages request that
/// carries none, so that the stable prefix of a conversation (tools, system, earlier turns) is a
/// cache read on the next turn. The placement and the Anthropic rules it relies on are explained
/// in docs/prompt-caching.md.
///
/// Pure and thread-safe. Only ever adds `cache_control` fields (promoting a string `system` or
/// message `content` to the equivalent one-element text-block list where a marker must go), so the
/// model sees exactly the same prompt.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/config/prompt_caching.hpp"

namespace claudegate::translate {

/// What `PlaceCacheBreakpoints()` did.
enum class CacheMarking {
  kDisabled,       ///< `prompt_caching: off`: nothing added.
  kClientMarkers,  ///< The request has its own `cache_control` somewhere: left untouched.
  kPlaced,         ///< Breakpoints added (`added` of them).
  kNothingToMark,  ///< No block can carry a marker (e.g. only thinking blocks or empty text).
};

struct CacheMarkingResult {
  CacheMarking outcome = CacheMarking::kDisabled;
  std::size_t added = 0;  ///< Breakpoints added; at most 4 (Anthropic's per-request limit).
};

/// Whether `body` (an Anthropic Messages request) has a `cache_control` anywhere Anthropic reads
/// one: top level, a tool, a system block, a message content block, or a block nested in a
/// `tool_result`.
[[nodiscard]] bool HasCacheMarkers(const nlohmann::json& body);

/// Adds breakpoints to `body` unless `settings` turn caching off or the request has markers of
/// its own. `model_name` is the model the client asked for (before alias resolution): a model
/// with LiteLLM `cache_control_injection_points` configured gets those instead of the automatic
/// placement. Never throws on malformed bodies (anything unexpected is skipped).
CacheMarkingResult PlaceCacheBreakpoints(nlohmann::json& body,
                                         const config::PromptCaching& settings,
                                         std::string_view model_name);

}  // namespace claudegate::translate
