#include "claudegate/store/response_store.hpp"

namespace claudegate::store {
namespace {

using nlohmann::json;

// The same replacement the served body uses (responses_handler.cpp), so that a Response that went
// out is always storable.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void CollectIds(const json& items, std::vector<std::string>& ids) {
  if (!items.is_array()) {
    return;
  }
  for (const auto& item : items) {
    if (!item.is_object()) {
      continue;
    }
    if (const auto id = item.find("id"); id != item.end() && id->is_string()) {
      ids.push_back(id->get<std::string>());
    }
  }
}

}  // namespace

StoredResponse MakeStoredResponse(const json& response, const json& input_items,
                                  std::optional<std::string> previous_id) {
  StoredResponse turn;
  turn.previous_id = std::move(previous_id);
  if (response.is_object()) {
    if (const auto id = response.find("id"); id != response.end() && id->is_string()) {
      turn.id = id->get<std::string>();
    }
    if (const auto created = response.find("created_at");
        created != response.end() && created->is_number_integer()) {
      turn.created_at = created->get<std::int64_t>();
    }
  }
  turn.response = Dump(response);
  turn.input_items = input_items.is_array() ? Dump(input_items) : "[]";
  CollectIds(input_items, turn.item_ids);
  if (response.is_object()) {
    if (const auto output = response.find("output"); output != response.end()) {
      CollectIds(*output, turn.item_ids);
    }
  }
  return turn;
}

}  // namespace claudegate::store
