#include "claudegate/translate/json_depth.hpp"

#include <utility>
#include <vector>

namespace claudegate::translate {

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

}  // namespace claudegate::translate
