#include "claudegate/translate/request/json_depth.hpp"

#include <string>
#include <utility>
#include <vector>

namespace claudegate::translate {

bool JsonTextExceedsDepth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  const std::size_t size = text.size();
  for (std::size_t i = 0; i < size; ++i) {
    const char c = text[i];
    if (c == '"') {
      // Skip the string: brackets inside it are text. A backslash escapes the next byte (`\"`,
      // `\\`); the escapes of RFC 8259 §7 are all ASCII, so no multi-byte care is needed.
      for (++i; i < size && text[i] != '"'; ++i) {
        if (text[i] == '\\') {
          ++i;
        }
      }
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        return true;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

bool ExceedsJsonDepth(const nlohmann::json& value, std::size_t limit) {
  std::vector<std::pair<const nlohmann::json*, std::size_t>> pending;
  pending.emplace_back(&value, 1);
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) {
      continue;
    }
    if (depth > limit) {
      return true;
    }
    for (const auto& child : *node) {
      if (child.is_structured()) {
        pending.emplace_back(&child, depth + 1);
      }
    }
  }
  return false;
}

Error JsonTooDeep(std::string_view what, std::string param) {
  return Error(
      ErrorKind::kInvalidRequest,
      std::string(what) + " nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels.",
      std::move(param), "json_too_deep");
}

}  // namespace claudegate::translate
