// Responses `tools` and `tool_choice` → their chat form (see responses_request.hpp).
#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/responses_rewrite.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

// Builds chat `tools` from Responses `tools`, one Claude tool per client tool
// (docs/codex.md#tool-types).
struct ToolsRewrite {
  ResponsesRewrite& rw;
  json out;
};

// Records where chat `tools[k]` came from, for error messages.
void RenameTool(ToolsRewrite& state, const std::string& param) {
  const std::string chat = "tools[" + std::to_string(state.out.size()) + "]";
  state.rw.Rename(chat + ".function", param);
  state.rw.Rename(chat, param);
}

json FunctionTool(const json& tool, std::string name, const std::string& prefix) {
  json function = json::object();
  for (const char* key : {"name", "description", "parameters", "strict"}) {
    if (const json* value = Field(tool, key)) {
      function[key] = *value;
    }
  }
  if (function.contains("name")) {
    function["name"] = std::move(name);
  }
  if (!prefix.empty()) {
    const json* description = Field(tool, "description");
    function["description"] = prefix + (description != nullptr && description->is_string()
                                            ? "\n\n" + description->get<std::string>()
                                            : std::string());
  }
  json converted = {{"type", "function"}, {"function", std::move(function)}};
  if (const json* cc = Field(tool, "cache_control")) {
    converted["cache_control"] = *cc;
  }
  return converted;
}

// A custom (freeform) tool as a function taking one string (docs/codex.md#tool-types): Claude has
// no grammar-constrained sampling, so the grammar goes into the description as an instruction.
Result<json> CustomTool(const json& tool, std::string name, const std::string& prefix,
                        const std::string& param) {
  std::string description = prefix;
  auto append = [&description](std::string_view text) {
    if (!description.empty()) {
      description += "\n\n";
    }
    description += text;
  };
  if (const json* text = Field(tool, "description"); text != nullptr && text->is_string()) {
    append(text->get_ref<const std::string&>());
  }
  std::string input_doc = "The tool's whole input, as free text.";
  if (const json* format = Field(tool, "format")) {
    const std::string type = format->is_object() ? format->value("type", "") : "";
    if (type == "grammar") {
      const json* definition = Field(*format, "definition");
      if (definition == nullptr || !definition->is_string()) {
        return InvalidParam("custom tool grammar needs a string definition",
                            param + ".format.definition");
      }
      const std::string syntax = format->value("syntax", "lark");
      append("The `" + std::string(kCustomInputKey) + "` string must match this " + syntax +
             " grammar exactly:\n```" + syntax + "\n" + definition->get<std::string>() + "\n```");
      input_doc = "The tool's whole input; it must match the " + syntax + " grammar above.";
    } else if (type != "text") {
      return InvalidParam("custom tool format type must be text or grammar",
                          param + ".format.type");
    }
  }
  json function = {
      {"name", std::move(name)},
      {"parameters",
       {{"type", "object"},
        {"properties", {{kCustomInputKey, {{"type", "string"}, {"description", input_doc}}}}},
        {"required", json::array({kCustomInputKey})},
        {"additionalProperties", false}}}};
  if (!description.empty()) {
    function["description"] = std::move(description);
  }
  return json{{"type", "function"}, {"function", std::move(function)}};
}

// What a client should do instead of a hosted tool claudegate cannot run.
std::string HostedToolAdvice(std::string_view type) {
  if (type == "local_shell" || type == "shell" || type == "apply_patch" ||
      type == "computer_use_preview" || type == "computer") {
    return "define it as a function tool (or a custom tool) and run it in your client";
  }
  if (type == "mcp") {
    return "connect the MCP server in your client and declare its tools as function tools "
           "(or a namespace of them)";
  }
  return "Claude has no hosted equivalent; define a function tool that does this in your client";
}

// OpenAI's Responses web_search tool → chat's `web_search_options` (plus `filters`, a claudegate
// extension the chat route accepts too); ToAnthropic turns that into Claude's web search tool.
Result<void> AddWebSearch(ToolsRewrite& state, const json& tool, const std::string& param) {
  // `external_web_access: false` (Codex's default "cached" mode) asks for answers from OpenAI's
  // index only, with no live access. Claude can only search the live web, so turning its search
  // on would do what the client asked not to: the tool is dropped instead (docs/codex.md).
  if (const json* live = Field(tool, "external_web_access"); live != nullptr && *live == false) {
    state.rw.out.warnings.push_back("dropped " + param +
                                    ": web_search without live access (external_web_access: "
                                    "false); Claude's web search is always live");
    return {};
  }
  json& chat = state.rw.out.chat;
  if (chat.contains("web_search_options")) {
    return InvalidParam("only one web_search tool may be given", param);
  }
  json options = json::object();
  if (const json* filters = Field(tool, "filters")) {
    options["filters"] = *filters;
  }
  if (const json* location = Field(tool, "user_location"); location != nullptr) {
    if (!location->is_object()) {
      return InvalidParam("user_location must be an object", param + ".user_location");
    }
    json approximate = *location;
    approximate.erase("type");
    options["user_location"] = {{"type", "approximate"}, {"approximate", std::move(approximate)}};
  }
  if (const json* size = Field(tool, "search_context_size")) {
    options["search_context_size"] = *size;
  }
  state.rw.Rename("web_search_options.user_location.approximate", param + ".user_location");
  state.rw.Rename("web_search_options", param);
  chat["web_search_options"] = std::move(options);
  return {};
}

Result<void> AddNamespace(ToolsRewrite& state, const json& tool, const std::string& param) {
  const json* name = Field(tool, "name");
  const json* inner = Field(tool, "tools");
  if (name == nullptr || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return InvalidParam("namespace tool needs a name", param + ".name");
  }
  if (inner == nullptr || !inner->is_array()) {
    return InvalidParam("namespace tool needs a tools array", param + ".tools");
  }
  const std::string& ns = name->get_ref<const std::string&>();
  std::string prefix;
  if (const json* description = Field(tool, "description");
      description != nullptr && description->is_string() &&
      !description->get_ref<const std::string&>().empty()) {
    prefix = description->get<std::string>();
  }
  for (std::size_t j = 0; j < inner->size(); ++j) {
    const json& entry = (*inner)[j];
    const std::string entry_param = param + ".tools[" + std::to_string(j) + "]";
    const std::string type = entry.is_object() ? entry.value("type", "") : "";
    const json* inner_name = entry.is_object() ? Field(entry, "name") : nullptr;
    if ((type != "function" && type != "custom") || inner_name == nullptr ||
        !inner_name->is_string()) {
      return InvalidParam("namespace tools must be named function or custom tools", entry_param);
    }
    std::string flat = state.rw.names.ClaudeName(ns, inner_name->get_ref<const std::string&>());
    RenameTool(state, entry_param);
    if (type == "custom") {
      auto converted = CustomTool(entry, std::move(flat), prefix, entry_param);
      if (!converted) {
        return converted.error();
      }
      state.out.push_back(std::move(*converted));
    } else {
      state.out.push_back(FunctionTool(entry, std::move(flat), prefix));
    }
  }
  return {};
}

Result<void> AddTool(ToolsRewrite& state, const json& tool, const std::string& param) {
  const std::string type = tool.value("type", "");
  if (type == "function") {
    RenameTool(state, param);
    const json* name = Field(tool, "name");
    state.out.push_back(FunctionTool(
        tool, name != nullptr && name->is_string() ? name->get<std::string>() : "", ""));
    return {};
  }
  if (type == "custom") {
    const json* name = Field(tool, "name");
    if (name == nullptr || !name->is_string()) {
      return InvalidParam("custom tool needs a name", param + ".name");
    }
    RenameTool(state, param);
    auto converted =
        CustomTool(tool, state.rw.names.ClaudeName("", name->get<std::string>()), "", param);
    if (!converted) {
      return converted.error();
    }
    state.out.push_back(std::move(*converted));
    return {};
  }
  if (type == "namespace") {
    return AddNamespace(state, tool, param);
  }
  if (IsWebSearchTool(type)) {
    return AddWebSearch(state, tool, param);
  }
  if (type == "tool_search") {
    // Codex's deferred-tool search: every tool is sent in full anyway, so Claude can call any
    // of them without it (docs/codex.md#tool-types).
    state.rw.out.warnings.push_back("dropped " + param + ": tool_search (all tools are sent)");
    return {};
  }
  return InvalidParam("tool type '" + type + "' at " + param +
                          " is not supported by claudegate: " + HostedToolAdvice(type) +
                          ". Supported tool types: function, custom, namespace, web_search.",
                      param + ".type");
}

}  // namespace

bool IsWebSearchTool(std::string_view type) {
  return type == "web_search" || type == "web_search_preview" ||
         type.starts_with("web_search_preview_") || type.starts_with("web_search_20");
}

Result<void> RewriteTools(ResponsesRewrite& rw, const json& request) {
  const json* tools = Field(request, "tools");
  if (tools == nullptr) {
    return {};
  }
  if (!tools->is_array()) {
    return InvalidParam("tools must be an array", "tools");
  }
  ToolsRewrite state{rw, json::array()};
  for (std::size_t i = 0; i < tools->size(); ++i) {
    const json& tool = (*tools)[i];
    const std::string param = "tools[" + std::to_string(i) + "]";
    if (!tool.is_object()) {
      return InvalidParam("tool must be an object", param);
    }
    if (auto r = AddTool(state, tool, param); !r) {
      return r;
    }
  }
  rw.out.chat["tools"] = std::move(state.out);
  return {};
}

namespace {

// The Claude name a Responses tool_choice (or allowed_tools entry) names; empty when it names none.
std::string ChoiceName(const ResponsesRewrite& rw, const json& choice) {
  const std::string type = choice.value("type", "");
  const json* name = Field(choice, "name");
  if ((type == "function" || type == "custom") && name != nullptr && name->is_string()) {
    const json* ns = Field(choice, "namespace");
    return rw.names.ClaudeName(ns != nullptr && ns->is_string() ? ns->get<std::string>() : "",
                               name->get_ref<const std::string&>());
  }
  if (IsWebSearchTool(type)) {
    return "web_search";  // Claude's web search tool is always named so.
  }
  return "";
}

}  // namespace

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
  if (type == "function" || type == "custom" || IsWebSearchTool(type)) {
    const std::string name = ChoiceName(rw, *choice);
    rw.out.chat["tool_choice"] = {{"type", "function"},
                                  {"function", {{"name", name.empty() ? json() : json(name)}}}};
    rw.Rename("tool_choice.function", "tool_choice");
    return {};
  }
  if (type == "allowed_tools") {
    json tools = json::array();
    if (const json* list = Field(*choice, "tools"); list != nullptr && list->is_array()) {
      for (const auto& entry : *list) {
        if (!entry.is_object()) {
          continue;
        }
        if (std::string name = ChoiceName(rw, entry); !name.empty()) {
          tools.push_back({{"type", "function"}, {"function", {{"name", std::move(name)}}}});
        }
      }
    }
    rw.out.chat["tool_choice"] = {
        {"type", "allowed_tools"},
        {"allowed_tools", {{"mode", choice->value("mode", "auto")}, {"tools", std::move(tools)}}}};
    rw.Rename("tool_choice.allowed_tools", "tool_choice");
    return {};
  }
  rw.out.chat["tool_choice"] = *choice;  // Hosted-tool and mcp choices: rejected later.
  return {};
}

}  // namespace claudegate::translate
