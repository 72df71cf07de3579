// Responses `tools` and `tool_choice` → their chat form (see responses_request.hpp).
#include "claudegate/translate/request/responses_rewrite.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

const json* Field(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

Result<void> RewriteTools(ResponsesRewrite& rw, const json& request) {
  const json* tools = Field(request, "tools");
  if (tools == nullptr) {
    return {};
  }
  if (!tools->is_array()) {
    return InvalidParam("tools must be an array", "tools");
  }
  json out = json::array();
  for (std::size_t i = 0; i < tools->size(); ++i) {
    const json& tool = (*tools)[i];
    const std::string param = "tools[" + std::to_string(i) + "]";
    if (!tool.is_object() || tool.value("type", "") != "function") {
      out.push_back(tool);  // Hosted tools (web_search, file_search, …): rejected by ConvertTools.
      continue;
    }
    json function = json::object();
    for (const char* key : {"name", "description", "parameters", "strict"}) {
      if (const json* value = Field(tool, key)) {
        function[key] = *value;
      }
    }
    json converted = {{"type", "function"}, {"function", std::move(function)}};
    if (const json* cc = Field(tool, "cache_control")) {
      converted["cache_control"] = *cc;
    }
    out.push_back(std::move(converted));
    rw.Rename(param + ".function", param);
  }
  rw.out.chat["tools"] = std::move(out);
  return {};
}

Result<void> RewriteToolChoice(ResponsesRewrite& rw, const json& request) {
  const json* choice = Field(request, "tool_choice");
  if (choice == nullptr) {
    return {};
  }
  if (!choice->is_object()) {
    rw.out.chat["tool_choice"] = *choice;  // "auto", "none", "required": same in both APIs.
    return {};
  }
  const std::string type = choice->value("type", "");
  if (type == "function") {
    rw.out.chat["tool_choice"] = {{"type", "function"},
                                  {"function", {{"name", choice->value("name", json())}}}};
    rw.Rename("tool_choice.function", "tool_choice");
    return {};
  }
  if (type == "allowed_tools") {
    json tools = json::array();
    if (const json* list = Field(*choice, "tools"); list != nullptr && list->is_array()) {
      for (const auto& entry : *list) {
        if (entry.is_object() && entry.value("type", "") == "function") {
          tools.push_back(
              {{"type", "function"}, {"function", {{"name", entry.value("name", "")}}}});
        }
      }
    }
    rw.out.chat["tool_choice"] = {
        {"type", "allowed_tools"},
        {"allowed_tools", {{"mode", choice->value("mode", "auto")}, {"tools", std::move(tools)}}}};
    rw.Rename("tool_choice.allowed_tools", "tool_choice");
    return {};
  }
  rw.out.chat["tool_choice"] = *choice;  // Hosted-tool, mcp and custom choices: rejected later.
  return {};
}

}  // namespace claudegate::translate
