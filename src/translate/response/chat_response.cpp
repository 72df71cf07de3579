#include "claudegate/translate/response/chat_response.hpp"

#include "claudegate/translate/response/web_search_output.hpp"

namespace claudegate::translate {
namespace {

const std::string* StringField(const nlohmann::json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

std::string RefusalText(const nlohmann::json& message) {
  const auto details = message.find("stop_details");
  if (details != message.end() && details->is_object()) {
    if (const std::string* explanation = StringField(*details, "explanation");
        explanation != nullptr && !explanation->empty()) {
      return *explanation;
    }
  }
  return std::string(kGenericRefusal);
}

}  // namespace

Result<OpenAiResponse> ToOpenAi(const nlohmann::json& message, std::string_view model,
                                std::int64_t created) {
  const auto content_it = message.is_object() ? message.find("content") : message.end();
  if (!message.is_object() || content_it == message.end() || !content_it->is_array()) {
    return Error{ErrorKind::kUpstreamUnreachable,
                 "malformed upstream response: expected a message with a content array", "", ""};
  }
  std::string text;
  std::string reasoning;
  bool has_text = false;
  nlohmann::json tool_calls = nlohmann::json::array();
  nlohmann::json thinking_blocks = nlohmann::json::array();
  nlohmann::json annotations = nlohmann::json::array();  // Web search citations.
  for (const auto& block : *content_it) {
    if (!block.is_object()) {
      continue;
    }
    const std::string* type = StringField(block, "type");
    if (type == nullptr) {
      continue;
    }
    if (*type == "text") {
      if (const std::string* t = StringField(block, "text")) {
        const std::size_t start = CodePointCount(text);
        text += *t;
        has_text = true;
        if (const auto citations = block.find("citations"); citations != block.end()) {
          for (auto& annotation : ChatUrlCitations(*citations, start, CodePointCount(text))) {
            annotations.push_back(std::move(annotation));
          }
        }
      }
    } else if (*type == "thinking") {
      const std::string* thinking = StringField(block, "thinking");
      const std::string* signature = StringField(block, "signature");
      if (thinking != nullptr) {
        reasoning += *thinking;
      }
      thinking_blocks.push_back({{"type", "thinking"},
                                 {"thinking", thinking != nullptr ? *thinking : ""},
                                 {"signature", signature != nullptr ? *signature : ""}});
    } else if (*type == "redacted_thinking") {
      const std::string* data = StringField(block, "data");
      thinking_blocks.push_back(
          {{"type", "redacted_thinking"}, {"data", data != nullptr ? *data : ""}});
    } else if (*type == "tool_use") {
      const std::string* id = StringField(block, "id");
      const std::string* name = StringField(block, "name");
      std::string arguments;
      if (const std::string* raw = StringField(block, "partial_json")) {
        arguments = *raw;
      } else if (const auto input = block.find("input"); input != block.end()) {
        arguments = input->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      } else {
        arguments = "{}";
      }
      tool_calls.push_back(
          {{"id", id != nullptr ? *id : ""},
           {"type", "function"},
           {"function",
            {{"name", name != nullptr ? *name : ""}, {"arguments", std::move(arguments)}}}});
    }
    // server_tool_use, *_tool_result, and unknown block types: nothing the client can use.
  }

  OpenAiResponse out;
  if (const std::string* stop = StringField(message, "stop_reason")) {
    out.stop_reason = *stop;
  }
  if (const auto usage = message.find("usage"); usage != message.end()) {
    UpdateUsage(out.usage, *usage);
  }

  nlohmann::json msg = {{"role", "assistant"},
                        {"content", has_text && !text.empty() ? nlohmann::json(std::move(text))
                                                              : nlohmann::json(nullptr)},
                        {"refusal", nullptr}};
  if (out.stop_reason == "refusal") {
    msg["refusal"] = RefusalText(message);
  }
  if (!annotations.empty()) {
    msg["annotations"] = std::move(annotations);
  }
  const bool has_tool_calls = !tool_calls.empty();
  if (has_tool_calls) {
    msg["tool_calls"] = std::move(tool_calls);
  }
  if (!reasoning.empty()) {
    msg["reasoning_content"] = std::move(reasoning);
  }
  if (!thinking_blocks.empty()) {
    msg["thinking_blocks"] = std::move(thinking_blocks);
  }
  const std::string* msg_id = StringField(message, "id");
  out.body = {
      {"id", ChatCompletionId(msg_id != nullptr ? *msg_id : "")},
      {"object", "chat.completion"},
      {"created", created},
      {"model", model},
      {"choices",
       nlohmann::json::array({{{"index", 0},
                               {"message", std::move(msg)},
                               {"logprobs", nullptr},
                               {"finish_reason", FinishReason(out.stop_reason, has_tool_calls)}}})},
      {"usage", OpenAiUsage(out.usage)},
  };
  return out;
}

}  // namespace claudegate::translate
