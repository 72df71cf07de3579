#include "claudegate/translate/tool_name_map.hpp"

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace claudegate::translate {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsValidFlat(std::string_view name) {
  if (name.empty() || name.size() > kMaxFlatToolName) {
    return false;
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return false;
    }
  }
  return true;
}

// FNV-1a 32: stable across builds and platforms, which std::hash is not.
std::uint32_t Fnv1a(std::string_view a, std::string_view b) {
  std::uint32_t h = 2166136261U;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 16777619U;
  };
  for (char c : a) {
    mix(static_cast<unsigned char>(c));
  }
  mix(0);
  for (char c : b) {
    mix(static_cast<unsigned char>(c));
  }
  return h;
}

std::string Joined(std::string_view ns, std::string_view name) {
  std::string flat(ns);
  if (!flat.empty() && !flat.ends_with('_')) {
    flat += "__";
  }
  flat += name;
  return flat;
}

// `<prefix>_<8 hex>`: the valid characters of the joined name, cut to fit.
std::string Hashed(std::string_view ns, std::string_view name, std::uint32_t salt) {
  std::string prefix;
  for (char c : Joined(ns, name)) {
    prefix += IsNameChar(c) ? c : '_';
  }
  prefix.resize(std::min<std::size_t>(prefix.size(), kMaxFlatToolName - 9));
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint32_t h = Fnv1a(ns, name) + salt;
  std::string suffix(8, '0');
  for (int i = 7; i >= 0; --i) {
    suffix[static_cast<std::size_t>(i)] = kHex[h & 0xFU];
    h >>= 4U;
  }
  return prefix + "_" + suffix;
}

std::string StringOf(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string FlatToolName(std::string_view ns, std::string_view name) {
  std::string joined = Joined(ns, name);
  return IsValidFlat(joined) ? joined : Hashed(ns, name, 0);
}

ToolNameMap ToolNameMap::FromResponsesTools(const nlohmann::json& tools) {
  ToolNameMap map;
  if (!tools.is_array()) {
    return map;
  }
  for (const auto& tool : tools) {  // Top-level tools first: they keep their names.
    const std::string type = tool.is_object() ? StringOf(tool, "type") : std::string();
    if (type == "function" || type == "custom") {
      map.Add(type == "custom" ? ClientToolKind::kCustom : ClientToolKind::kFunction, "",
              StringOf(tool, "name"));
    }
  }
  for (const auto& tool : tools) {
    if (!tool.is_object() || StringOf(tool, "type") != "namespace") {
      continue;
    }
    const std::string ns = StringOf(tool, "name");
    const auto inner = tool.find("tools");
    if (ns.empty() || inner == tool.end() || !inner->is_array()) {
      continue;
    }
    for (const auto& entry : *inner) {
      if (!entry.is_object()) {
        continue;
      }
      const std::string type = StringOf(entry, "type");
      if (type == "function" || type == "custom") {
        map.Add(type == "custom" ? ClientToolKind::kCustom : ClientToolKind::kFunction, ns,
                StringOf(entry, "name"));
      }
    }
  }
  return map;
}

void ToolNameMap::Add(ClientToolKind kind, std::string ns, std::string name) {
  if (name.empty() || FindClient(ns, name) != nullptr) {
    return;
  }
  std::string flat = ns.empty() ? name : FlatToolName(ns, name);
  for (std::uint32_t salt = 1; Find(flat) != nullptr; ++salt) {
    flat = Hashed(ns, name, salt);
  }
  entries_.push_back(Entry{std::move(flat), ClientTool{kind, std::move(ns), std::move(name)}});
}

const ToolNameMap::Entry* ToolNameMap::FindClient(std::string_view ns,
                                                  std::string_view name) const {
  for (const auto& entry : entries_) {
    if (entry.tool.ns == ns && entry.tool.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

std::string ToolNameMap::ClaudeName(std::string_view ns, std::string_view name) const {
  if (const Entry* entry = FindClient(ns, name)) {
    return entry->claude_name;
  }
  return ns.empty() ? std::string(name) : FlatToolName(ns, name);
}

const ClientTool* ToolNameMap::Find(std::string_view claude_name) const {
  for (const auto& entry : entries_) {
    if (entry.claude_name == claude_name) {
      return &entry.tool;
    }
  }
  return nullptr;
}

}  // namespace claudegate::translate
