/// @file json_depth.hpp
/// A guard against absurdly nested requests. nlohmann parses and destroys iteratively, but copying
/// and dumping recurse, so a small request nested 100,000 levels deep would overflow the stack in
/// the translator and take every stream in flight down with it.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

namespace claudegate::translate {

/// Deeper than any real request or JSON schema; refused with a 400 beyond it.
inline constexpr std::size_t kMaxJsonDepth = 128;

/// True when `value` nests arrays/objects deeper than `limit`. Iterative (no recursion).
[[nodiscard]] bool ExceedsJsonDepth(const nlohmann::json& value, std::size_t limit = kMaxJsonDepth);

}  // namespace claudegate::translate
