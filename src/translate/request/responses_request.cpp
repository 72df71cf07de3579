#include "claudegate/translate/request/responses_request.hpp"

#include <algorithm>
#include <array>

#include "claudegate/translate/request/json_depth.hpp"
#include "claudegate/translate/response/responses_output.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

const json* Field(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

Error Stateless(std::string message, std::string param) {
  return Error{ErrorKind::kInvalidRequest,
               std::move(message) +
                   " claudegate keeps no conversation state: send the whole conversation in "
                   "`input` on every request.",
               std::move(param), "unsupported_parameter"};
}

class Rewriter {
 public:
  explicit Rewriter(const TranslateOptions& options) : options_(options) {}

  Result<ChatEquivalent> Run(const json& request);

 private:
  Result<void> CheckStateless(const json& request);
  Result<void> AddInput(const json& input);
  Result<void> AddItem(const json& item, const std::string& param);
  Result<void> AddMessage(const json& item, const std::string& param);
  Result<json> ConvertParts(const json& parts, const std::string& param);
  Result<void> AddReasoning(const json& item, const std::string& param);
  Result<void> ConvertTools(const json& request);
  Result<void> ConvertToolChoice(const json& request);
  Result<void> ConvertText(const json& request);
  void Rename(std::string from, std::string to) {
    out_.renames.emplace_back(std::move(from), std::move(to));
  }
  std::string NextMessageParam() const {
    return "messages[" + std::to_string(messages_.size()) + "]";
  }

  const TranslateOptions& options_;
  ChatEquivalent out_;
  json messages_ = json::array();
};

Result<ChatEquivalent> Rewriter::Run(const json& request) {
  if (auto r = CheckStateless(request); !r) {
    return r.error();
  }
  json& chat = out_.chat;
  chat = json::object();
  if (const json* model = Field(request, "model")) {
    chat["model"] = *model;
  }
  if (const json* instructions = Field(request, "instructions")) {
    if (!instructions->is_string()) {
      return InvalidParam("instructions must be a string", "instructions");
    }
    if (!instructions->get_ref<const std::string&>().empty()) {
      Rename(NextMessageParam(), "instructions");
      messages_.push_back({{"role", "system"}, {"content", *instructions}});
    }
  }
  const json* input = Field(request, "input");
  if (input == nullptr) {
    return InvalidParam("input is required", "input");
  }
  if (auto r = AddInput(*input); !r) {
    return r.error();
  }
  chat["messages"] = std::move(messages_);
  Rename("messages", "input");

  if (auto r = ConvertTools(request); !r) {
    return r.error();
  }
  if (auto r = ConvertToolChoice(request); !r) {
    return r.error();
  }
  if (auto r = ConvertText(request); !r) {
    return r.error();
  }
  if (const json* max = Field(request, "max_output_tokens")) {
    chat["max_completion_tokens"] = *max;
    Rename("max_completion_tokens", "max_output_tokens");
  }
  if (const json* reasoning = Field(request, "reasoning")) {
    if (!reasoning->is_object()) {
      return InvalidParam("reasoning must be an object", "reasoning");
    }
    if (const json* effort = Field(*reasoning, "effort")) {
      chat["reasoning_effort"] = *effort;
      Rename("reasoning_effort", "reasoning.effort");
    }
  }
  for (const char* key : {"temperature", "top_p", "top_logprobs", "parallel_tool_calls", "user",
                          "safety_identifier", "service_tier", "stream"}) {
    if (const json* value = Field(request, key)) {
      chat[key] = *value;
    }
  }
  if (Field(request, "max_tool_calls") != nullptr) {
    if (!options_.drop_params) {
      return InvalidParam(
          "claudegate does not support parameter 'max_tool_calls' with Claude models. To drop "
          "unsupported parameters, set litellm_settings.drop_params: true",
          "max_tool_calls");
    }
    out_.warnings.emplace_back("dropped unsupported parameter max_tool_calls");
  }
  // Longest prefix first, so `messages[1].content` wins over `messages[1]` and `messages`.
  std::stable_sort(out_.renames.begin(), out_.renames.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return std::move(out_);
}

Result<void> Rewriter::CheckStateless(const json& request) {
  if (Field(request, "previous_response_id") != nullptr) {
    return Stateless("previous_response_id is not supported.", "previous_response_id");
  }
  if (Field(request, "conversation") != nullptr) {
    return Stateless("conversation is not supported.", "conversation");
  }
  if (Field(request, "prompt") != nullptr) {
    return Stateless("Stored prompt templates (prompt) are not supported.", "prompt");
  }
  if (const json* background = Field(request, "background");
      background != nullptr && *background == true) {
    return Stateless("background responses are not supported.", "background");
  }
  return {};
}

Result<void> Rewriter::AddInput(const json& input) {
  if (input.is_string()) {
    Rename(NextMessageParam(), "input");
    messages_.push_back({{"role", "user"}, {"content", input}});
    return {};
  }
  if (!input.is_array()) {
    return InvalidParam("input must be a string or an array of input items", "input");
  }
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (auto r = AddItem(input[i], "input[" + std::to_string(i) + "]"); !r) {
      return r;
    }
  }
  return {};
}

Result<void> Rewriter::AddItem(const json& item, const std::string& param) {
  if (!item.is_object()) {
    return InvalidParam("each input item must be an object", param);
  }
  const json* type = Field(item, "type");
  if (type != nullptr && !type->is_string()) {
    return InvalidParam("input item type must be a string", param + ".type");
  }
  // EasyInputMessage may omit `type`; everything else must name it.
  const std::string kind = type != nullptr ? type->get<std::string>() : "message";
  if (kind == "message") {
    return AddMessage(item, param);
  }
  const std::string chat_param = NextMessageParam();
  if (kind == "function_call") {
    const json* call_id = Field(item, "call_id");
    if (call_id == nullptr || !call_id->is_string()) {
      return InvalidParam("function_call needs a string call_id", param + ".call_id");
    }
    json function = {{"name", item.value("name", json())}};
    if (const json* arguments = Field(item, "arguments")) {
      function["arguments"] = *arguments;
    }
    const std::string call_param = chat_param + ".tool_calls[0]";
    Rename(call_param + ".function.arguments", param + ".arguments");
    Rename(call_param + ".function.name", param + ".name");
    Rename(call_param + ".function", param);
    Rename(call_param + ".id", param + ".call_id");
    Rename(call_param, param);
    Rename(chat_param, param);
    messages_.push_back(
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          json::array({{{"id", *call_id}, {"type", "function"}, {"function", function}}})}});
    return {};
  }
  if (kind == "function_call_output") {
    const json* call_id = Field(item, "call_id");
    if (call_id == nullptr || !call_id->is_string()) {
      return InvalidParam("function_call_output needs a string call_id", param + ".call_id");
    }
    json message = {{"role", "tool"}, {"tool_call_id", *call_id}};
    if (const json* output = Field(item, "output")) {
      if (output->is_array()) {
        auto parts = ConvertParts(*output, param + ".output");
        if (!parts) {
          return parts.error();
        }
        message["content"] = std::move(*parts);
      } else {
        message["content"] = *output;
      }
    }
    Rename(chat_param + ".tool_call_id", param + ".call_id");
    Rename(chat_param + ".content", param + ".output");
    Rename(chat_param, param);
    messages_.push_back(std::move(message));
    return {};
  }
  if (kind == "reasoning") {
    return AddReasoning(item, param);
  }
  if (kind == "item_reference") {
    return Stateless("item_reference input items are not supported.", param);
  }
  return InvalidParam("input item type '" + kind +
                          "' is not supported; use message, function_call, "
                          "function_call_output or reasoning items",
                      param + ".type");
}

Result<void> Rewriter::AddMessage(const json& item, const std::string& param) {
  const json* role = Field(item, "role");
  if (role == nullptr || !role->is_string()) {
    return InvalidParam("message needs a string role", param + ".role");
  }
  const std::string chat_param = NextMessageParam();
  json message = {{"role", *role}};
  const json* content = Field(item, "content");
  if (content == nullptr) {
    return InvalidParam("message needs content", param + ".content");
  }
  if (content->is_array()) {
    auto parts = ConvertParts(*content, param + ".content");
    if (!parts) {
      return parts.error();
    }
    message["content"] = std::move(*parts);
  } else {
    message["content"] = *content;
  }
  Rename(chat_param, param);
  messages_.push_back(std::move(message));
  return {};
}

// Responses content parts → chat content parts. Unknown types are passed through unchanged, so
// the chat translator rejects them with its usual message (naming the renamed path).
Result<json> Rewriter::ConvertParts(const json& parts, const std::string& param) {
  json out = json::array();
  for (std::size_t j = 0; j < parts.size(); ++j) {
    const json& part = parts[j];
    const std::string part_param = param + "[" + std::to_string(j) + "]";
    const std::string type = part.is_object() ? part.value("type", "") : "";
    if (type == "input_text" || type == "output_text") {
      json text = {{"type", "text"}, {"text", part.value("text", json())}};
      if (const json* cc = Field(part, "cache_control")) {
        text["cache_control"] = *cc;
      }
      out.push_back(std::move(text));
    } else if (type == "input_image") {
      const json* url = Field(part, "image_url");
      if (url == nullptr || !url->is_string()) {
        return InvalidParam(
            "input_image needs image_url (an https URL or a data URL); file_id refers to OpenAI "
            "file storage, which claudegate cannot reach",
            part_param + ".image_url");
      }
      out.push_back({{"type", "image_url"}, {"image_url", {{"url", *url}}}});
    } else if (type == "input_file") {
      const json* data = Field(part, "file_data");
      if (data == nullptr || !data->is_string()) {
        return InvalidParam(
            "input_file needs file_data (a data URL); file_id and file_url are not supported",
            part_param + ".file_data");
      }
      json file = {{"file_data", *data}};
      if (const json* name = Field(part, "filename")) {
        file["filename"] = *name;
      }
      out.push_back({{"type", "file"}, {"file", std::move(file)}});
    } else {
      out.push_back(part);  // `refusal` is the same in both APIs; the rest is rejected later.
    }
  }
  return out;
}

Result<void> Rewriter::AddReasoning(const json& item, const std::string& param) {
  const json* encrypted = Field(item, "encrypted_content");
  if (encrypted == nullptr || !encrypted->is_string()) {
    // Without Anthropic's signature a thinking block is rejected upstream; reasoning is optional
    // history, so it is dropped rather than refused.
    out_.warnings.push_back("dropped " + param + ": reasoning item without encrypted_content");
    return {};
  }
  json block;
  const auto& value = encrypted->get_ref<const std::string&>();
  if (value.starts_with(kRedactedThinkingPrefix)) {
    block = {{"type", "redacted_thinking"}, {"data", value.substr(kRedactedThinkingPrefix.size())}};
  } else {
    std::string thinking;
    if (const json* summary = Field(item, "summary"); summary != nullptr && summary->is_array()) {
      for (const auto& part : *summary) {
        if (part.is_object() && part.value("type", "") == "summary_text") {
          thinking += part.value("text", "");
        }
      }
    }
    block = {{"type", "thinking"}, {"thinking", thinking}, {"signature", value}};
  }
  Rename(NextMessageParam(), param);
  messages_.push_back(
      {{"role", "assistant"}, {"content", nullptr}, {"thinking_blocks", json::array({block})}});
  return {};
}

Result<void> Rewriter::ConvertTools(const json& request) {
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
    Rename(param + ".function", param);
  }
  out_.chat["tools"] = std::move(out);
  return {};
}

Result<void> Rewriter::ConvertToolChoice(const json& request) {
  const json* choice = Field(request, "tool_choice");
  if (choice == nullptr) {
    return {};
  }
  if (!choice->is_object()) {
    out_.chat["tool_choice"] = *choice;  // "auto", "none", "required": same in both APIs.
    return {};
  }
  const std::string type = choice->value("type", "");
  if (type == "function") {
    out_.chat["tool_choice"] = {{"type", "function"},
                                {"function", {{"name", choice->value("name", json())}}}};
    Rename("tool_choice.function", "tool_choice");
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
    out_.chat["tool_choice"] = {
        {"type", "allowed_tools"},
        {"allowed_tools", {{"mode", choice->value("mode", "auto")}, {"tools", std::move(tools)}}}};
    Rename("tool_choice.allowed_tools", "tool_choice");
    return {};
  }
  out_.chat["tool_choice"] = *choice;  // Hosted-tool, mcp and custom choices: rejected later.
  return {};
}

Result<void> Rewriter::ConvertText(const json& request) {
  const json* text = Field(request, "text");
  if (text == nullptr) {
    return {};
  }
  if (!text->is_object()) {
    return InvalidParam("text must be an object", "text");
  }
  if (Field(*text, "verbosity") != nullptr) {
    out_.warnings.emplace_back("ignored text.verbosity");
  }
  const json* format = Field(*text, "format");
  if (format == nullptr) {
    return {};
  }
  if (!format->is_object() || !format->contains("type")) {
    return InvalidParam("text.format needs a type", "text.format.type");
  }
  const json& type = (*format)["type"];
  if (type == "json_schema") {
    json spec = json::object();
    for (const char* key : {"name", "schema", "strict", "description"}) {
      if (const json* value = Field(*format, key)) {
        spec[key] = *value;
      }
    }
    out_.chat["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(spec)}};
  } else {
    out_.chat["response_format"] = {{"type", type}};
  }
  Rename("response_format.json_schema", "text.format");
  Rename("response_format", "text.format");
  return {};
}

// Maps a chat parameter path back to the Responses path the client used.
std::string RenameParam(const std::string& param,
                        const std::vector<std::pair<std::string, std::string>>& renames) {
  for (const auto& [from, to] : renames) {
    if (!param.starts_with(from)) {
      continue;
    }
    const std::string_view rest = std::string_view(param).substr(from.size());
    if (rest.empty() || rest.front() == '.' || rest.front() == '[') {
      return to + std::string(rest);
    }
  }
  return param;
}

json ValueOr(const json& request, std::string_view key, json fallback) {
  const json* value = Field(request, key);
  return value != nullptr ? *value : std::move(fallback);
}

json BuildEcho(const json& request) {
  json reasoning = {{"effort", nullptr}, {"summary", nullptr}};
  if (const json* r = Field(request, "reasoning"); r != nullptr && r->is_object()) {
    reasoning["effort"] = r->value("effort", json());
    reasoning["summary"] = r->value("summary", json());
  }
  json text = {{"format", {{"type", "text"}}}};
  if (const json* t = Field(request, "text"); t != nullptr && t->is_object()) {
    text = *t;
    if (!text.contains("format")) {
      text["format"] = {{"type", "text"}};
    }
  }
  return {
      {"instructions", ValueOr(request, "instructions", nullptr)},
      {"max_output_tokens", ValueOr(request, "max_output_tokens", nullptr)},
      {"metadata", ValueOr(request, "metadata", json::object())},
      {"parallel_tool_calls", ValueOr(request, "parallel_tool_calls", true)},
      {"reasoning", std::move(reasoning)},
      {"temperature", ValueOr(request, "temperature", nullptr)},
      {"text", std::move(text)},
      {"tool_choice", ValueOr(request, "tool_choice", "auto")},
      {"tools", ValueOr(request, "tools", json::array())},
      {"top_p", ValueOr(request, "top_p", nullptr)},
      {"truncation", ValueOr(request, "truncation", "disabled")},
      {"user", ValueOr(request, "user", nullptr)},
  };
}

}  // namespace

Result<ChatEquivalent> ResponsesToChat(const json& request, const TranslateOptions& options) {
  if (!request.is_object()) {
    return InvalidParam("request body must be a JSON object", "");
  }
  try {
    return Rewriter(options).Run(request);
  } catch (const json::exception& e) {
    return InvalidParam(std::string("invalid request: ") + e.what(), "");
  }
}

Result<ResponsesRequest> ResponsesToAnthropic(const json& request,
                                              const TranslateOptions& options) {
  // Checked before ResponsesToChat copies parts of the request (copies recurse).
  if (ExceedsJsonDepth(request)) {
    return InvalidParam(
        "request nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels", "");
  }
  auto chat = ResponsesToChat(request, options);
  if (!chat) {
    return chat.error();
  }
  auto translated = ToAnthropic(chat->chat, options);
  if (!translated) {
    Error error = translated.error();
    error.param = RenameParam(error.param, chat->renames);
    return error;
  }
  ResponsesRequest out;
  out.anthropic = std::move(*translated);
  for (auto& warning : chat->warnings) {
    out.anthropic.warnings.push_back(std::move(warning));
  }
  try {
    out.echo = BuildEcho(request);
  } catch (const json::exception& e) {
    return InvalidParam(std::string("invalid request: ") + e.what(), "");
  }
  return out;
}

}  // namespace claudegate::translate
