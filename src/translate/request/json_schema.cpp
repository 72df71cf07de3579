#include "claudegate/translate/request/json_schema.hpp"

#include <array>
#include <string_view>

namespace claudegate::translate {
namespace {

constexpr std::array<std::string_view, 10> kSupportedFormats{
    "date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"};

nlohmann::json Transform(const nlohmann::json& schema);

nlohmann::json TransformMap(const nlohmann::json& map) {
  if (!map.is_object()) {
    return map;
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, sub] : map.items()) {
    out[name] = Transform(sub);
  }
  return out;
}

nlohmann::json TransformList(const nlohmann::json& list) {
  if (!list.is_array()) {
    return list;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& sub : list) {
    out.push_back(Transform(sub));
  }
  return out;
}

bool IsSupportedFormat(const nlohmann::json& format) {
  if (!format.is_string()) {
    return false;
  }
  const auto& value = format.get_ref<const std::string&>();
  for (const auto supported : kSupportedFormats) {
    if (supported == value) {
      return true;
    }
  }
  return false;
}

nlohmann::json Transform(const nlohmann::json& schema) {
  if (!schema.is_object()) {
    return schema;
  }
  nlohmann::json rest = schema;  // Keywords not consumed below end up in the description.
  nlohmann::json out = nlohmann::json::object();
  const auto take = [&rest](const char* key) {
    nlohmann::json value;
    if (const auto it = rest.find(key); it != rest.end()) {
      value = std::move(*it);
      rest.erase(key);
    }
    return value;
  };

  if (auto defs = take("$defs"); !defs.is_null()) {
    out["$defs"] = TransformMap(defs);
  }
  if (auto ref = take("$ref"); !ref.is_null()) {
    out["$ref"] = std::move(ref);
    return out;  // A $ref stands alone.
  }
  const nlohmann::json type = take("type");
  if (!type.is_null()) {
    out["type"] = type;
  }
  if (rest.contains("anyOf")) {
    out["anyOf"] = TransformList(take("anyOf"));
  } else if (rest.contains("oneOf")) {
    out["anyOf"] = TransformList(take("oneOf"));
  } else if (rest.contains("allOf")) {
    out["allOf"] = TransformList(take("allOf"));
  }
  for (const char* key : {"description", "title", "enum", "const"}) {
    if (auto value = take(key); !value.is_null()) {
      out[key] = std::move(value);
    }
  }
  if (type == "object") {
    const nlohmann::json properties = take("properties");
    out["properties"] =
        properties.is_object() ? TransformMap(properties) : nlohmann::json::object();
    take("additionalProperties");
    out["additionalProperties"] = false;
    if (auto required = take("required"); !required.is_null()) {
      out["required"] = std::move(required);
    }
  } else if (type == "string") {
    if (IsSupportedFormat(rest.value("format", nlohmann::json()))) {
      out["format"] = take("format");
    }
  } else if (type == "array") {
    if (auto items = take("items"); !items.is_null()) {
      out["items"] = Transform(items);
    }
    if (const auto it = rest.find("minItems");
        it != rest.end() && it->is_number_integer() && (*it == 0 || *it == 1)) {
      out["minItems"] = take("minItems");
    }
  }
  if (!rest.empty()) {
    std::string description;
    if (const auto it = out.find("description"); it != out.end() && it->is_string()) {
      description = it->get<std::string>() + "\n\n";
    }
    description += "{";
    bool first = true;
    for (const auto& [key, value] : rest.items()) {
      if (!first) {
        description += ", ";
      }
      first = false;
      description += key;
      description += ": ";
      description += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    description += "}";
    out["description"] = std::move(description);
  }
  return out;
}

}  // namespace

nlohmann::json TransformOutputSchema(const nlohmann::json& schema) { return Transform(schema); }

}  // namespace claudegate::translate
