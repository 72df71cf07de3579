#include "claudegate/translate/response/responses_output.hpp"

#include "claudegate/translate/response/web_search_output.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

std::string_view BaseId(std::string_view message_id) {
  if (message_id.starts_with("msg_")) {
    message_id.remove_prefix(4);
  }
  return message_id.empty() ? std::string_view("claudegate") : message_id;
}

std::string StringOr(const json& obj, std::string_view key, std::string fallback = {}) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::move(fallback);
}

}  // namespace

std::string ResponseIdBase(const ResponseMeta& meta, std::string_view message_id) {
  return meta.id_base.empty() ? std::string(BaseId(message_id)) : meta.id_base;
}

std::string ResponseId(std::string_view base) { return "resp_" + std::string(base); }

std::string OutputItemId(std::string_view prefix, std::string_view base, std::size_t output_index) {
  std::string id(prefix);
  id += '_';
  id += base;
  id += '_';
  id += std::to_string(output_index);
  return id;
}

json ResponseUsage(const Usage& usage) {
  return {
      {"input_tokens", usage.prompt_tokens()},
      {"input_tokens_details", {{"cached_tokens", usage.cache_read_input_tokens}}},
      {"output_tokens", usage.output_tokens},
      {"output_tokens_details", {{"reasoning_tokens", usage.thinking_tokens.value_or(0)}}},
      {"total_tokens", usage.prompt_tokens() + usage.output_tokens},
  };
}

ResponseStatus StatusForStopReason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return {"incomplete", {{"reason", "max_output_tokens"}}};
  }
  if (stop_reason == "refusal") {
    return {"incomplete", {{"reason", "content_filter"}}};
  }
  return {"completed", nullptr};
}

json ResponseSkeleton(const ResponseMeta& meta, std::string_view id, std::string_view status) {
  json out = meta.echo.is_object() ? meta.echo : json::object();
  out["id"] = id;
  out["object"] = "response";
  out["created_at"] = meta.created_at;
  out["status"] = status;
  out["background"] = false;
  out["error"] = nullptr;
  out["incomplete_details"] = nullptr;
  out["model"] = meta.model;
  out["output"] = json::array();
  // The route says whether it keeps this turn and which one it continues (routes/responses_*).
  if (!out.contains("previous_response_id")) {
    out["previous_response_id"] = nullptr;
  }
  if (!out.contains("store")) {
    out["store"] = false;
  }
  out["usage"] = nullptr;
  return out;
}

json OutputTextPart(std::string_view text) {
  return {{"type", "output_text"},
          {"text", text},
          {"annotations", json::array()},
          {"logprobs", json::array()}};
}

json MessageItem(std::string_view id, const std::string* text, std::string_view status) {
  json content = json::array();
  if (text != nullptr) {
    content.push_back(OutputTextPart(*text));
  }
  return {{"id", id},
          {"type", "message"},
          {"role", "assistant"},
          {"status", status},
          {"content", std::move(content)}};
}

json FunctionCallItem(std::string_view call_id, std::string_view name, std::string_view arguments,
                      std::string_view status) {
  return {{"id", "fc_" + std::string(call_id)},
          {"type", "function_call"},
          {"call_id", call_id},
          {"name", name},
          {"arguments", arguments},
          {"status", status}};
}

std::string CustomToolInput(std::string_view arguments) {
  const json parsed = json::parse(arguments, nullptr, false);
  if (parsed.is_object()) {
    const auto it = parsed.find(kCustomInputKey);
    if (it != parsed.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return std::string(arguments);  // Not the declared shape: hand the client what Claude wrote.
}

json ToolCallItem(std::string_view call_id, std::string_view claude_name,
                  std::string_view arguments, std::string_view status, const ToolNameMap& names) {
  const ClientTool* tool = names.Find(claude_name);
  if (tool == nullptr) {
    return FunctionCallItem(call_id, claude_name, arguments, status);  // Unknown: unchanged.
  }
  json item;
  if (tool->kind == ClientToolKind::kCustom) {
    item = {{"id", "ctc_" + std::string(call_id)},
            {"type", "custom_tool_call"},
            {"call_id", call_id},
            {"name", tool->name},
            {"input", CustomToolInput(arguments)},
            {"status", status}};
  } else {
    item = FunctionCallItem(call_id, tool->name, arguments, status);
  }
  if (!tool->ns.empty()) {
    item["namespace"] = tool->ns;
  }
  return item;
}

json ReasoningItem(std::string_view id, const std::string* summary,
                   std::string_view encrypted_content) {
  json parts = json::array();
  if (summary != nullptr && !summary->empty()) {
    parts.push_back({{"type", "summary_text"}, {"text", *summary}});
  }
  json item = {{"id", id}, {"type", "reasoning"}, {"summary", std::move(parts)}};
  if (!encrypted_content.empty()) {
    item["encrypted_content"] = encrypted_content;
  }
  return item;
}

Result<json> ToResponse(const json& message, const ResponseMeta& meta) {
  const auto content = message.is_object() ? message.find("content") : message.end();
  if (!message.is_object() || content == message.end() || !content->is_array()) {
    return Error{ErrorKind::kUpstreamUnreachable, "The Claude API sent an unexpected message.", "",
                 "bad_upstream_response"};
  }
  const std::string message_id = StringOr(message, "id");
  const std::string stop_reason = StringOr(message, "stop_reason");
  const ResponseStatus status = StatusForStopReason(stop_reason);
  const std::string id_base = ResponseIdBase(meta, message_id);
  json out = ResponseSkeleton(meta, ResponseId(id_base), status.status);
  out["incomplete_details"] = status.incomplete_details;
  json& output = out["output"];
  const ToolNameMap names = ToolNameMap::FromResponsesTools(
      meta.echo.is_object() ? meta.echo.value("tools", json()) : json());
  for (const auto& block : *content) {
    if (!block.is_object()) {
      continue;
    }
    const std::string type = StringOr(block, "type");
    if (type == "text") {
      const std::string text = StringOr(block, "text");
      json item = MessageItem(OutputItemId("msg", id_base, output.size()), &text, "completed");
      if (const auto citations = block.find("citations"); citations != block.end()) {
        item["content"][0]["annotations"] = UrlCitations(*citations, 0, CodePointCount(text));
      }
      output.push_back(std::move(item));
    } else if (IsWebSearchUse(block)) {
      json result;
      for (const auto& other : *content) {
        if (other.is_object() && StringOr(other, "type") == "web_search_tool_result" &&
            StringOr(other, "tool_use_id") == StringOr(block, "id")) {
          result = other;
        }
      }
      output.push_back(WebSearchCallItem(block, result));
    } else if (type == "thinking") {
      const std::string thinking = StringOr(block, "thinking");
      output.push_back(ReasoningItem(OutputItemId("rs", id_base, output.size()), &thinking,
                                     StringOr(block, "signature")));
    } else if (type == "redacted_thinking") {
      output.push_back(
          ReasoningItem(OutputItemId("rs", id_base, output.size()), nullptr,
                        std::string(kRedactedThinkingPrefix) + StringOr(block, "data")));
    } else if (type == "tool_use") {
      // A string `partial_json` is what MessageAccumulator keeps when the input did not parse
      // (cut off by max_tokens); it is returned verbatim, as on the chat route.
      std::string arguments = StringOr(block, "partial_json");
      if (arguments.empty()) {
        const auto input = block.find("input");
        arguments = input != block.end() && input->is_object()
                        ? input->dump(-1, ' ', false, json::error_handler_t::replace)
                        : "{}";
      }
      output.push_back(ToolCallItem(StringOr(block, "id"), StringOr(block, "name"), arguments,
                                    "completed", names));
    }
  }
  Usage usage;
  if (const auto u = message.find("usage"); u != message.end()) {
    UpdateUsage(usage, *u);
  }
  out["usage"] = ResponseUsage(usage);
  return out;
}

}  // namespace claudegate::translate
