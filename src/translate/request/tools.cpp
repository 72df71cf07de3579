#include "claudegate/translate/request/tools.hpp"

#include <algorithm>
#include <cstdint>

#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/tool_calls.hpp"

namespace claudegate::translate {
namespace {

Result<nlohmann::json> ConvertFunction(const nlohmann::json& function, const nlohmann::json& tool,
                                       const std::string& param, const RequestContext& ctx) {
  if (!function.is_object()) {
    return InvalidParam("tool needs a function object", param);
  }
  const nlohmann::json* name = Field(function, "name");
  if (name == nullptr || !name->is_string() ||
      !IsValidToolName(name->get_ref<const std::string&>())) {
    return InvalidParam("function.name must match ^[a-zA-Z0-9_-]{1,128}$", param + ".name");
  }
  nlohmann::json out = {{"name", *name}};
  if (const nlohmann::json* description = Field(function, "description");
      description != nullptr && description->is_string()) {
    out["description"] = *description;
  }
  nlohmann::json schema =
      nlohmann::json{{"type", "object"}, {"properties", nlohmann::json::object()}};
  if (const nlohmann::json* parameters = Field(function, "parameters")) {
    if (!parameters->is_object()) {
      return InvalidParam("function.parameters must be a JSON Schema object",
                          param + ".parameters");
    }
    schema = *parameters;
    schema["type"] = "object";  // Anthropic requires an object schema.
  }
  out["input_schema"] = std::move(schema);
  if (const nlohmann::json* strict = Field(function, "strict");
      strict != nullptr && strict->is_boolean() && strict->get<bool>() &&
      ctx.traits.structured_outputs) {
    out["strict"] = true;
  }
  for (const nlohmann::json* source : {&tool, &function}) {
    if (const nlohmann::json* cc = Field(*source, "cache_control");
        cc != nullptr && cc->is_object()) {
      out["cache_control"] = *cc;
    }
  }
  return out;
}

Result<nlohmann::json> ConvertToolList(const nlohmann::json& request, const RequestContext& ctx) {
  nlohmann::json tools = nlohmann::json::array();
  if (const nlohmann::json* list = Field(request, "tools")) {
    if (!list->is_array()) {
      return InvalidParam("tools must be an array", "tools");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& tool = (*list)[i];
      const std::string param = "tools[" + std::to_string(i) + "]";
      if (!tool.is_object()) {
        return InvalidParam("tool must be an object", param);
      }
      if (const std::string type = tool.value("type", "function"); type != "function") {
        return InvalidParam("tool type '" + type + "' is not supported; only function tools",
                            param + ".type");
      }
      const nlohmann::json* function = Field(tool, "function");
      auto converted = ConvertFunction(function != nullptr ? *function : nlohmann::json(), tool,
                                       param + ".function", ctx);
      if (!converted) {
        return converted.error();
      }
      tools.push_back(std::move(*converted));
    }
  }
  if (const nlohmann::json* functions = Field(request, "functions")) {  // Deprecated form.
    if (!functions->is_array()) {
      return InvalidParam("functions must be an array", "functions");
    }
    for (std::size_t i = 0; i < functions->size(); ++i) {
      auto converted = ConvertFunction((*functions)[i], nlohmann::json::object(),
                                       "functions[" + std::to_string(i) + "]", ctx);
      if (!converted) {
        return converted.error();
      }
      tools.push_back(std::move(*converted));
    }
  }
  return tools;
}

// Anthropic tool_choice for the OpenAI value; null when absent. Restricts `tools` for
// allowed_tools.
Result<nlohmann::json> ConvertChoice(const nlohmann::json& request, nlohmann::json& tools) {
  const char* param = "tool_choice";
  const nlohmann::json* choice = Field(request, "tool_choice");
  if (choice == nullptr) {
    choice = Field(request, "function_call");
    param = "function_call";
  }
  if (choice == nullptr) {
    return nlohmann::json();
  }
  if (choice->is_string()) {
    const auto& value = choice->get_ref<const std::string&>();
    if (value == "auto") {
      return nlohmann::json{{"type", "auto"}};
    }
    if (value == "none") {
      return nlohmann::json{{"type", "none"}};
    }
    if (value == "required") {
      return nlohmann::json{{"type", "any"}};
    }
    return InvalidParam("unsupported tool_choice '" + value + "'", param);
  }
  if (!choice->is_object()) {
    return InvalidParam("tool_choice must be a string or an object", param);
  }
  const std::string type =
      choice->value("type", param == std::string_view("function_call") ? "function" : "");
  if (type == "function") {
    const nlohmann::json* function =
        param == std::string_view("function_call") ? choice : Field(*choice, "function");
    const nlohmann::json* name = function != nullptr ? Field(*function, "name") : nullptr;
    if (name == nullptr || !name->is_string()) {
      return InvalidParam("named tool_choice needs function.name",
                          std::string(param) + ".function.name");
    }
    return nlohmann::json{{"type", "tool"}, {"name", *name}};
  }
  if (type == "allowed_tools") {
    const nlohmann::json* allowed = Field(*choice, "allowed_tools");
    const nlohmann::json* list = allowed != nullptr ? Field(*allowed, "tools") : nullptr;
    if (list == nullptr || !list->is_array()) {
      return InvalidParam("allowed_tools needs a tools array", "tool_choice.allowed_tools.tools");
    }
    std::vector<std::string> names;
    for (const auto& entry : *list) {
      const nlohmann::json* function = entry.is_object() ? Field(entry, "function") : nullptr;
      const nlohmann::json* name = function != nullptr ? Field(*function, "name") : nullptr;
      if (name != nullptr && name->is_string()) {
        names.push_back(name->get<std::string>());
      }
    }
    nlohmann::json subset = nlohmann::json::array();
    for (auto& tool : tools) {
      if (std::find(names.begin(), names.end(), tool["name"].get<std::string>()) != names.end()) {
        subset.push_back(std::move(tool));
      }
    }
    tools = std::move(subset);
    const std::string mode = allowed->value("mode", "auto");
    if (mode != "auto" && mode != "required") {
      return InvalidParam("allowed_tools.mode must be auto or required",
                          "tool_choice.allowed_tools.mode");
    }
    return nlohmann::json{{"type", mode == "required" ? "any" : "auto"}};
  }
  return InvalidParam("tool_choice type '" + type + "' is not supported", "tool_choice.type");
}

// Claude's server-side web search tool for OpenAI's `web_search_options`
// (docs/anthropic-notes.md#web-search). `web_search_20250305` is the version every Claude model and
// platform accepts without a beta header; the later ones add dynamic filtering, which runs
// Anthropic's code execution and returns other block types. `search_context_size` has no
// counterpart and is ignored.
Result<nlohmann::json> WebSearchTool(const nlohmann::json& options) {
  const char* param = "web_search_options";
  if (!options.is_object()) {
    return InvalidParam("web_search_options must be an object", param);
  }
  nlohmann::json tool = {{"type", "web_search_20250305"}, {"name", "web_search"}};
  if (const nlohmann::json* max = Field(options, "max_uses")) {  // claudegate extension
    if (!max->is_number_integer() || max->get<std::int64_t>() < 1) {
      return InvalidParam("max_uses must be a positive integer", "web_search_options.max_uses");
    }
    tool["max_uses"] = *max;
  }
  if (const nlohmann::json* filters = Field(options, "filters")) {
    if (!filters->is_object()) {
      return InvalidParam("filters must be an object", "web_search_options.filters");
    }
    for (const char* key : {"allowed_domains", "blocked_domains"}) {
      if (const nlohmann::json* list = Field(*filters, key)) {
        if (!list->is_array()) {
          return InvalidParam(std::string(key) + " must be an array of domains",
                              std::string("web_search_options.filters.") + key);
        }
        tool[key] = *list;
      }
    }
    if (tool.contains("allowed_domains") && tool.contains("blocked_domains")) {
      return InvalidParam("allowed_domains and blocked_domains cannot be used together",
                          "web_search_options.filters");
    }
  }
  if (const nlohmann::json* location = Field(options, "user_location")) {
    const nlohmann::json* approximate =
        location->is_object() ? Field(*location, "approximate") : nullptr;
    if (approximate == nullptr || !approximate->is_object()) {
      return InvalidParam("user_location needs an approximate object",
                          "web_search_options.user_location.approximate");
    }
    nlohmann::json out = {{"type", "approximate"}};
    for (const char* key : {"city", "region", "country", "timezone"}) {
      if (const nlohmann::json* value = Field(*approximate, key);
          value != nullptr && value->is_string()) {
        out[key] = *value;
      }
    }
    tool["user_location"] = std::move(out);
  }
  return tool;
}

}  // namespace

Result<ConvertedTools> ConvertTools(const nlohmann::json& request,
                                    const std::vector<std::string>& history_tool_names,
                                    const RequestContext& ctx) {
  auto tools = ConvertToolList(request, ctx);
  if (!tools) {
    return tools.error();
  }
  auto choice = ConvertChoice(request, *tools);
  if (!choice) {
    return choice.error();
  }
  nlohmann::json web_search;
  if (const nlohmann::json* options = Field(request, "web_search_options")) {
    auto tool = WebSearchTool(*options);
    if (!tool) {
      return tool.error();
    }
    web_search = std::move(*tool);
  }
  ConvertedTools out;
  if (tools->empty() && !web_search.is_null()) {
    // Only the server tool: no client tool names to reserve, the client's choice stands.
    for (const auto& name : history_tool_names) {
      if (std::none_of(tools->begin(), tools->end(),
                       [&](const nlohmann::json& t) { return t["name"] == name; })) {
        tools->push_back({{"name", name}, {"input_schema", {{"type", "object"}}}});
      }
    }
    tools->push_back(std::move(web_search));
    out.tools = std::move(*tools);
    out.tool_choice = std::move(*choice);
    return out;
  }
  if (!web_search.is_null()) {
    tools->push_back(std::move(web_search));
  }
  if (tools->empty()) {
    if (choice->is_object() && (*choice)["type"] != "auto" && (*choice)["type"] != "none") {
      return InvalidParam("tool_choice requires tools", "tool_choice");
    }
    if (history_tool_names.empty()) {
      return out;  // No tools anywhere: omit both.
    }
    for (const auto& name : history_tool_names) {
      const bool seen = std::any_of(tools->begin(), tools->end(),
                                    [&](const nlohmann::json& t) { return t["name"] == name; });
      if (!seen) {
        tools->push_back({{"name", name}, {"input_schema", {{"type", "object"}}}});
      }
    }
    out.tools = std::move(*tools);
    out.tool_choice = {{"type", "none"}};
    return out;
  }
  out.tools = std::move(*tools);
  out.tool_choice = std::move(*choice);
  const nlohmann::json* parallel = Field(request, "parallel_tool_calls");
  if (parallel != nullptr && parallel->is_boolean() && !parallel->get<bool>()) {
    if (out.tool_choice.is_null()) {
      out.tool_choice = {{"type", "auto"}};
    }
    if (out.tool_choice["type"] != "none") {  // ToolChoiceNone has no such field.
      out.tool_choice["disable_parallel_tool_use"] = true;
    }
  }
  return out;
}

}  // namespace claudegate::translate
