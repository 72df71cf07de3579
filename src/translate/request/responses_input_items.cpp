// Responses `input` items → chat messages (see responses_request.hpp for the mapping).
#include <string>

#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/responses_rewrite.hpp"
#include "claudegate/translate/response/responses_output.hpp"
#include "claudegate/translate/response/web_search_output.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

Result<void> AddItem(ResponsesRewrite& rw, const json& item, const std::string& param);
Result<void> AddMessage(ResponsesRewrite& rw, const json& item, const std::string& param);
Result<json> ConvertParts(const json& parts, const std::string& param);
Result<void> AddReasoning(ResponsesRewrite& rw, const json& item, const std::string& param);
Result<void> AddToolCall(ResponsesRewrite& rw, const json& item, const std::string& param,
                         const std::string& kind);
Result<void> AddToolOutput(ResponsesRewrite& rw, const json& item, const std::string& param,
                           const std::string& kind);
Result<void> AddWebSearchCall(ResponsesRewrite& rw, const json& item, const std::string& param);

}  // namespace

Result<void> RewriteInput(ResponsesRewrite& rw, const json& input) {
  if (input.is_string()) {
    rw.Rename(rw.NextMessageParam(), "input");
    rw.messages.push_back({{"role", "user"}, {"content", input}});
    return {};
  }
  if (!input.is_array()) {
    return InvalidParam("input must be a string or an array of input items", "input");
  }
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (auto r = AddItem(rw, input[i], "input[" + std::to_string(i) + "]"); !r) {
      return r;
    }
  }
  return {};
}

namespace {

// A function_call or custom_tool_call → an assistant tool call under the Claude tool's name
// (tool_name_map.hpp); a custom call's string input becomes `{"input": …}`.
Result<void> AddToolCall(ResponsesRewrite& rw, const json& item, const std::string& param,
                         const std::string& kind) {
  const json* call_id = Field(item, "call_id");
  if (call_id == nullptr || !call_id->is_string()) {
    return InvalidParam(kind + " needs a string call_id", param + ".call_id");
  }
  json name = item.value("name", json());
  if (name.is_string()) {
    const json* ns = Field(item, "namespace");
    name = rw.names.ClaudeName(ns != nullptr && ns->is_string() ? ns->get<std::string>() : "",
                               name.get<std::string>());
  }
  json function = {{"name", std::move(name)}};
  const std::string chat_param = rw.NextMessageParam();
  const std::string call_param = chat_param + ".tool_calls[0]";
  if (kind == "custom_tool_call") {
    const json* input = Field(item, "input");
    if (input == nullptr || !input->is_string()) {
      return InvalidParam("custom_tool_call needs a string input", param + ".input");
    }
    function["arguments"] = json{{kCustomInputKey, *input}}.dump();
  } else if (const json* arguments = Field(item, "arguments")) {
    function["arguments"] = *arguments;
    rw.Rename(call_param + ".function.arguments", param + ".arguments");
  }
  rw.Rename(call_param + ".function.name", param + ".name");
  rw.Rename(call_param + ".function", param);
  rw.Rename(call_param + ".id", param + ".call_id");
  rw.Rename(call_param, param);
  rw.Rename(chat_param, param);
  rw.messages.push_back(
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls",
        json::array({{{"id", *call_id}, {"type", "function"}, {"function", function}}})}});
  return {};
}

Result<void> AddToolOutput(ResponsesRewrite& rw, const json& item, const std::string& param,
                           const std::string& kind) {
  const json* call_id = Field(item, "call_id");
  if (call_id == nullptr || !call_id->is_string()) {
    return InvalidParam(kind + " needs a string call_id", param + ".call_id");
  }
  const std::string chat_param = rw.NextMessageParam();
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
  rw.Rename(chat_param + ".tool_call_id", param + ".call_id");
  rw.Rename(chat_param + ".content", param + ".output");
  rw.Rename(chat_param, param);
  rw.messages.push_back(std::move(message));
  return {};
}

// A web_search_call item claudegate emitted carries Claude's server_tool_use and
// web_search_tool_result blocks in `kWebSearchBlocksField` (responses_output.hpp); they are
// replayed as they were. Without them (a client that keeps only OpenAI's fields) the search is
// dropped: the answer text that follows still stands, only its citations' sources are gone.
Result<void> AddWebSearchCall(ResponsesRewrite& rw, const json& item, const std::string& param) {
  const json* blocks = Field(item, kWebSearchBlocksField);
  if (blocks == nullptr || !blocks->is_array() || blocks->empty()) {
    rw.out.warnings.push_back("dropped " + param + ": web_search_call without " +
                              std::string(kWebSearchBlocksField));
    return {};
  }
  if (!rw.offers_web_search) {
    // Server-tool blocks of a tool the request no longer declares: dropped like the above
    // rather than risking the whole request on them.
    rw.out.warnings.push_back("dropped " + param + ": web_search_call without a web_search tool");
    return {};
  }
  rw.Rename(rw.NextMessageParam() + ".server_tool_blocks",
            param + "." + std::string(kWebSearchBlocksField));
  rw.Rename(rw.NextMessageParam(), param);
  rw.messages.push_back(
      {{"role", "assistant"}, {"content", nullptr}, {"server_tool_blocks", *blocks}});
  return {};
}

Result<void> AddItem(ResponsesRewrite& rw, const json& item, const std::string& param) {
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
    return AddMessage(rw, item, param);
  }
  const std::string chat_param = rw.NextMessageParam();
  if (kind == "function_call" || kind == "custom_tool_call") {
    return AddToolCall(rw, item, param, kind);
  }
  if (kind == "function_call_output" || kind == "custom_tool_call_output") {
    return AddToolOutput(rw, item, param, kind);
  }
  if (kind == "web_search_call") {
    return AddWebSearchCall(rw, item, param);
  }
  if (kind == "tool_search_call" || kind == "tool_search_output") {
    // claudegate never offers tool_search (docs/codex.md#tool_search): nothing to replay.
    rw.out.warnings.push_back("dropped " + param + ": " + kind);
    return {};
  }
  if (kind == "reasoning") {
    return AddReasoning(rw, item, param);
  }
  if (kind == "item_reference") {
    return Stateless("item_reference input items are not supported.", param);
  }
  return InvalidParam("input item type '" + kind +
                          "' is not supported; use message, function_call, function_call_output, "
                          "custom_tool_call, custom_tool_call_output, web_search_call or "
                          "reasoning items",
                      param + ".type");
}

Result<void> AddMessage(ResponsesRewrite& rw, const json& item, const std::string& param) {
  const json* role = Field(item, "role");
  if (role == nullptr || !role->is_string()) {
    return InvalidParam("message needs a string role", param + ".role");
  }
  const std::string chat_param = rw.NextMessageParam();
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
  rw.Rename(chat_param, param);
  rw.messages.push_back(std::move(message));
  return {};
}

// Responses content parts → chat content parts. Unknown types are passed through unchanged, so
// the chat translator rejects them with its usual message (naming the renamed path).
Result<json> ConvertParts(const json& parts, const std::string& param) {
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

Result<void> AddReasoning(ResponsesRewrite& rw, const json& item, const std::string& param) {
  const json* encrypted = Field(item, "encrypted_content");
  if (encrypted == nullptr || !encrypted->is_string()) {
    // Without Anthropic's signature a thinking block is rejected upstream; reasoning is optional
    // history, so it is dropped rather than refused.
    rw.out.warnings.push_back("dropped " + param + ": reasoning item without encrypted_content");
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
  rw.Rename(rw.NextMessageParam(), param);
  rw.messages.push_back(
      {{"role", "assistant"}, {"content", nullptr}, {"thinking_blocks", json::array({block})}});
  return {};
}

}  // namespace

}  // namespace claudegate::translate
