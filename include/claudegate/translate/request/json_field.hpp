/// @file json_field.hpp
/// The one lookup every request translator uses: a member of a JSON object, with an explicit
/// `null` treated like an absent key (OpenAI clients send `"field": null` for "not set").
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace claudegate::translate {

/// `obj[key]`, or nullptr when absent or null.
[[nodiscard]] inline const nlohmann::json* Field(const nlohmann::json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace claudegate::translate
