/// @file json_depth.hpp
/// A guard against absurdly nested requests, at two depths:
///
/// * JsonTextExceedsDepth() judges the raw bytes of a client body before any parser sees them. A
///   DOM of a 30 MB `[[[…]]]` takes seconds and close to 1 GiB to build (issue 14, finding 10), so
///   the nesting is refused before one is built.
/// * ExceedsJsonDepth() checks a parsed value. nlohmann parses and destroys iteratively, but
///   copying and dumping recurse, so a small request nested 100,000 levels deep would overflow the
///   stack in the translator and take every stream in flight down with it.
///
/// Both count arrays and objects alike, the outermost being level 1, so text that passes the first
/// parses into a value that passes the second. Sizes are bounded earlier, by the session's body
/// limit (`claudegate.max_body_bytes`).
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"

namespace claudegate::translate {

/// Deeper than any real request or JSON schema; refused with a 400 beyond it.
inline constexpr std::size_t kMaxJsonDepth = 128;

/// True when the JSON text `text` nests arrays/objects deeper than `limit`, judged from the bytes
/// alone: brackets are counted outside strings (escapes honoured). One pass, no allocation, and it
/// stops at the first bracket past the limit. Says nothing about validity: malformed text is the
/// parser's to refuse afterwards. Thread-safe (pure).
[[nodiscard]] bool JsonTextExceedsDepth(std::string_view text, std::size_t limit = kMaxJsonDepth);

/// True when `value` nests arrays/objects deeper than `limit`. Iterative (no recursion).
[[nodiscard]] bool ExceedsJsonDepth(const nlohmann::json& value, std::size_t limit = kMaxJsonDepth);

/// The error for a body refused by JsonTextExceedsDepth(): kInvalidRequest, code `json_too_deep`.
/// `what` names the refused text ("The request body", "function.arguments").
[[nodiscard]] Error JsonTooDeep(std::string_view what, std::string param = {});

}  // namespace claudegate::translate
