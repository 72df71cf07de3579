#include "claudegate/routes/responses_input.hpp"

#include <array>
#include <chrono>
#include <cstdint>

#include <openssl/rand.h>

namespace claudegate::routes {
namespace {

using nlohmann::json;

std::string_view IdPrefixFor(std::string_view type) {
  if (type == "message") {
    return "msg";
  }
  if (type == "function_call") {
    return "fc";
  }
  if (type == "function_call_output") {
    return "fco";
  }
  if (type == "custom_tool_call") {
    return "ctc";
  }
  if (type == "custom_tool_call_output") {
    return "ctco";
  }
  return "item";
}

bool IsItemReference(const json& item) {
  if (!item.is_object()) {
    return false;
  }
  const auto type = item.find("type");
  return type != item.end() && *type == "item_reference";
}

}  // namespace

std::string TimeOrderedIdBase() {
  // The time first (milliseconds since the epoch, 12 hex digits), then 48 random bits, as UUIDv7
  // does (RFC 9562, section 5.7): ids made one after another sort one after another, so the
  // store's index of item ids grows at its end instead of dirtying a random page per id
  // (docs/performance.md, "Stored responses"). 48 random bits per millisecond keep them unique.
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::array<unsigned char, 6> random{};
  // RAND_bytes only fails when the CSPRNG cannot be seeded, which OpenSSL treats as fatal at
  // start-up long before a request arrives; the ids need uniqueness, not secrecy.
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(24);
  for (int shift = 44; shift >= 0; shift -= 4) {
    id += kHex[(static_cast<std::uint64_t>(millis) >> static_cast<unsigned>(shift)) & 0xFU];
  }
  for (const unsigned char byte : random) {
    id += kHex[byte >> 4U];
    id += kHex[byte & 0xFU];
  }
  return id;
}

std::string RandomItemId(std::string_view prefix) {
  std::string id(prefix);
  id += '_';
  id += TimeOrderedIdBase();
  return id;
}

json NormalizeInputItems(const json& input, const ItemIdSource& make_id) {
  if (input.is_string()) {
    return json::array({{{"id", make_id("msg")},
                         {"type", "message"},
                         {"role", "user"},
                         {"content", json::array({{{"type", "input_text"}, {"text", input}}})}}});
  }
  if (!input.is_array()) {
    return input;
  }
  json items = input;
  for (json& item : items) {
    if (!item.is_object() || IsItemReference(item)) {
      continue;
    }
    const auto id = item.find("id");
    if (id != item.end() && id->is_string() && !id->get_ref<const std::string&>().empty()) {
      continue;
    }
    const auto type = item.find("type");
    // EasyInputMessage may omit `type`; the translator treats it as a message.
    const std::string_view kind = type != item.end() && type->is_string()
                                      ? std::string_view(type->get_ref<const std::string&>())
                                      : std::string_view("message");
    item["id"] = make_id(IdPrefixFor(kind));
  }
  return items;
}

Result<std::vector<std::string>> ItemReferenceIds(const json& items) {
  std::vector<std::string> ids;
  if (!items.is_array()) {
    return ids;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!IsItemReference(items[i])) {
      continue;
    }
    const auto id = items[i].find("id");
    if (id == items[i].end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
      return Error(ErrorKind::kInvalidRequest,
                   "item_reference needs the string id of a stored item",
                   "input[" + std::to_string(i) + "].id", "invalid_value");
    }
    ids.push_back(id->get<std::string>());
  }
  return ids;
}

json ReplaceItemReferences(const json& items, const std::vector<json>& resolved) {
  if (resolved.empty()) {
    return items;
  }
  json out = json::array();
  std::size_t next = 0;
  for (const json& item : items) {
    if (IsItemReference(item) && next < resolved.size()) {
      out.push_back(resolved[next++]);
    } else {
      out.push_back(item);
    }
  }
  return out;
}

json ConversationInput(const std::vector<json>& history, const json& items) {
  json out = json::array();
  for (const json& item : history) {
    out.push_back(item);
  }
  if (items.is_array()) {
    for (const json& item : items) {
      out.push_back(item);
    }
  }
  return out;
}

}  // namespace claudegate::routes
