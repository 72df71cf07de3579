#include "claudegate/translate/request/messages.hpp"

#include <algorithm>
#include <map>

#include "claudegate/translate/request/content.hpp"
#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/tool_calls.hpp"

namespace claudegate::translate {
namespace {

struct ToolUseRef {
  std::string id;
  std::string param;  // messages[i].tool_calls[j], for the "missing result" error.
};

struct ToolResult {
  std::string id;
  std::string param;  // messages[i], for the "orphan result" error.
  nlohmann::json block;
};

struct Turn {
  bool assistant = false;
  nlohmann::json thinking = nlohmann::json::array();
  nlohmann::json content = nlohmann::json::array();
  nlohmann::json tool_uses = nlohmann::json::array();
  std::vector<ToolUseRef> tool_use_refs;
  std::vector<ToolResult> results;
};

class Converter {
 public:
  explicit Converter(const RequestContext& ctx) : ctx_(ctx) {}

  Result<ConvertedMessages> Run(const nlohmann::json& messages);

 private:
  Result<void> AddSystem(const nlohmann::json& msg, const std::string& param);
  Result<void> AddUser(const nlohmann::json& msg, const std::string& param);
  Result<void> AddToolResult(const nlohmann::json& msg, const std::string& param, bool legacy);
  Result<void> AddAssistant(const nlohmann::json& msg, std::size_t index, const std::string& param);
  Turn& CurrentTurn(bool assistant);
  Result<void> CheckToolPairs();
  Result<void> HandlePrefill();

  const RequestContext& ctx_;
  ConvertedMessages out_;
  std::vector<Turn> turns_;
  std::map<std::string, std::string, std::less<>> function_call_ids_;  // Legacy name → id.
};

void AttachMessageCacheControl(const nlohmann::json& msg, nlohmann::json& blocks,
                               std::size_t first_new) {
  if (blocks.size() > first_new) {
    nlohmann::json source = {{"cache_control", msg.value("cache_control", nlohmann::json())}};
    if (source["cache_control"].is_object()) {
      blocks.back()["cache_control"] = std::move(source["cache_control"]);
    }
  }
}

Result<ConvertedMessages> Converter::Run(const nlohmann::json& messages) {
  if (!messages.is_array()) {
    return InvalidParam("messages must be an array", "messages");
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& msg = messages[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) {
      return InvalidParam("each message must be an object", param);
    }
    const nlohmann::json* role = Field(msg, "role");
    if (role == nullptr || !role->is_string()) {
      return InvalidParam("message needs a string role", param + ".role");
    }
    const auto& r = role->get_ref<const std::string&>();
    Result<void> added;
    if (r == "system" || r == "developer") {
      added = AddSystem(msg, param);
    } else if (r == "user") {
      added = AddUser(msg, param);
    } else if (r == "assistant") {
      added = AddAssistant(msg, i, param);
    } else if (r == "tool" || r == "function") {
      added = AddToolResult(msg, param, r == "function");
    } else {
      return InvalidParam("unsupported message role '" + r + "'", param + ".role");
    }
    if (!added) {
      return added.error();
    }
  }
  if (auto checked = CheckToolPairs(); !checked) {
    return checked.error();
  }
  if (auto prefill = HandlePrefill(); !prefill) {
    return prefill.error();
  }
  if (turns_.empty()) {
    return InvalidParam("messages: at least one non-system message with content is required",
                        "messages");
  }
  for (auto& turn : turns_) {
    nlohmann::json content = nlohmann::json::array();
    if (turn.assistant) {
      for (auto* part : {&turn.thinking, &turn.content, &turn.tool_uses}) {
        for (auto& block : *part) {
          content.push_back(std::move(block));
        }
      }
    } else {
      for (auto& result : turn.results) {
        content.push_back(std::move(result.block));
      }
      for (auto& block : turn.content) {
        content.push_back(std::move(block));
      }
    }
    out_.messages.push_back(
        {{"role", turn.assistant ? "assistant" : "user"}, {"content", std::move(content)}});
  }
  return std::move(out_);
}

Turn& Converter::CurrentTurn(bool assistant) {
  if (turns_.empty() || turns_.back().assistant != assistant) {
    turns_.emplace_back();
    turns_.back().assistant = assistant;
  }
  return turns_.back();
}

Result<void> Converter::AddSystem(const nlohmann::json& msg, const std::string& param) {
  const std::size_t first_new = out_.system.size();
  const nlohmann::json* content = Field(msg, "content");
  if (content != nullptr) {
    if (auto r = AppendContentBlocks(*content, ContentRole::kSystem, param + ".content", ctx_,
                                     out_.system);
        !r) {
      return r;
    }
  }
  AttachMessageCacheControl(msg, out_.system, first_new);
  return {};
}

Result<void> Converter::AddUser(const nlohmann::json& msg, const std::string& param) {
  nlohmann::json blocks = nlohmann::json::array();
  const nlohmann::json* content = Field(msg, "content");
  if (content == nullptr) {
    return InvalidParam("user message needs content", param + ".content");
  }
  if (auto r = AppendContentBlocks(*content, ContentRole::kUser, param + ".content", ctx_, blocks);
      !r) {
    return r;
  }
  AttachMessageCacheControl(msg, blocks, 0);
  if (blocks.empty()) {
    return {};  // Empty user message: removed (docs/anthropic-notes.md#empty-messages).
  }
  Turn& turn = CurrentTurn(false);
  for (auto& block : blocks) {
    turn.content.push_back(std::move(block));
  }
  return {};
}

Result<void> Converter::AddToolResult(const nlohmann::json& msg, const std::string& param,
                                      bool legacy) {
  std::string id;
  if (legacy) {
    const nlohmann::json* name = Field(msg, "name");
    const auto it = name != nullptr && name->is_string()
                        ? function_call_ids_.find(name->get_ref<const std::string&>())
                        : function_call_ids_.end();
    if (it == function_call_ids_.end()) {
      return InvalidParam(
          "function message has no matching function_call in a previous "
          "assistant message",
          param);
    }
    id = it->second;
  } else {
    const nlohmann::json* call_id = Field(msg, "tool_call_id");
    if (call_id == nullptr || !call_id->is_string() ||
        call_id->get_ref<const std::string&>().empty()) {
      return InvalidParam("tool message needs a non-empty tool_call_id", param + ".tool_call_id");
    }
    id = SanitizeToolId(call_id->get_ref<const std::string&>());
  }
  nlohmann::json block = {{"type", "tool_result"}, {"tool_use_id", id}};
  if (const nlohmann::json* content = Field(msg, "content")) {
    if (content->is_string()) {
      if (!content->get_ref<const std::string&>().empty()) {
        block["content"] = *content;
      }
    } else {
      nlohmann::json blocks = nlohmann::json::array();
      if (auto r = AppendContentBlocks(*content, ContentRole::kToolResult, param + ".content", ctx_,
                                       blocks);
          !r) {
        return r;
      }
      if (!blocks.empty()) {
        block["content"] = std::move(blocks);
      }
    }
  }
  if (const nlohmann::json* cc = Field(msg, "cache_control"); cc != nullptr && cc->is_object()) {
    block["cache_control"] = *cc;
  }
  Turn& turn = CurrentTurn(false);
  for (auto& existing : turn.results) {
    if (existing.id == id) {
      // Last result per id wins (docs/anthropic-notes.md#duplicate-tool-results).
      existing.block = std::move(block);
      return {};
    }
  }
  turn.results.push_back({id, param, std::move(block)});
  return {};
}

Result<void> Converter::AddAssistant(const nlohmann::json& msg, std::size_t index,
                                     const std::string& param) {
  nlohmann::json thinking = nlohmann::json::array();
  nlohmann::json content = nlohmann::json::array();
  nlohmann::json tool_uses = nlohmann::json::array();
  std::vector<ToolUseRef> refs;
  if (const nlohmann::json* blocks = Field(msg, "thinking_blocks"); blocks != nullptr) {
    if (!blocks->is_array()) {
      return InvalidParam("thinking_blocks must be an array", param + ".thinking_blocks");
    }
    for (const auto& block : *blocks) {
      const std::string type = block.is_object() ? block.value("type", "") : "";
      if (type == "thinking") {
        thinking.push_back({{"type", "thinking"},
                            {"thinking", block.value("thinking", "")},
                            {"signature", block.value("signature", "")}});
      } else if (type == "redacted_thinking") {
        thinking.push_back({{"type", "redacted_thinking"}, {"data", block.value("data", "")}});
      }
    }
  }
  if (const nlohmann::json* blocks = Field(msg, "server_tool_blocks"); blocks != nullptr) {
    // A web search replayed from a Responses `web_search_call` item (docs/codex.md#tool-types):
    // Claude's own server_tool_use + web_search_tool_result blocks, in their order.
    if (!blocks->is_array()) {
      return InvalidParam("server_tool_blocks must be an array", param + ".server_tool_blocks");
    }
    for (const auto& block : *blocks) {
      const std::string type = block.is_object() ? block.value("type", "") : "";
      if (type != "server_tool_use" && type != "web_search_tool_result") {
        return InvalidParam(
            "server_tool_blocks may hold only server_tool_use and "
            "web_search_tool_result blocks",
            param + ".server_tool_blocks");
      }
      content.push_back(block);
    }
  }
  if (const nlohmann::json* text = Field(msg, "content")) {
    if (auto r =
            AppendContentBlocks(*text, ContentRole::kAssistant, param + ".content", ctx_, content);
        !r) {
      return r;
    }
  }
  if (const nlohmann::json* calls = Field(msg, "tool_calls")) {
    if (!calls->is_array()) {
      return InvalidParam("tool_calls must be an array", param + ".tool_calls");
    }
    for (std::size_t j = 0; j < calls->size(); ++j) {
      const auto& call = (*calls)[j];
      const std::string call_param = param + ".tool_calls[" + std::to_string(j) + "]";
      if (!call.is_object()) {
        return InvalidParam("tool call must be an object", call_param);
      }
      if (const std::string type = call.value("type", "function"); type != "function") {
        return InvalidParam("tool call type '" + type + "' is not supported", call_param + ".type");
      }
      const nlohmann::json* id = Field(call, "id");
      if (id == nullptr || !id->is_string() || id->get_ref<const std::string&>().empty()) {
        return InvalidParam("tool call needs a non-empty id", call_param + ".id");
      }
      auto use =
          ToolUseFromCall(call, call_param, SanitizeToolId(id->get_ref<const std::string&>()));
      if (!use) {
        return use.error();
      }
      refs.push_back({(*use)["id"].get<std::string>(), call_param});
      tool_uses.push_back(std::move(*use));
    }
  }
  if (const nlohmann::json* legacy = Field(msg, "function_call");
      legacy != nullptr && legacy->is_object()) {
    // The deprecated single function call gets a synthetic id shared with its function message.
    std::string id = "call_function_" + std::to_string(index);
    auto use = ToolUseFromCall(nlohmann::json{{"function", *legacy}}, param + ".function_call", id);
    if (!use) {
      return use.error();
    }
    function_call_ids_[(*use)["name"].get<std::string>()] = id;
    refs.push_back({id, param + ".function_call"});
    tool_uses.push_back(std::move(*use));
  }
  if (thinking.empty() && content.empty() && tool_uses.empty()) {
    return {};  // Nothing left (docs/anthropic-notes.md#empty-messages).
  }
  Turn& turn = CurrentTurn(true);
  for (auto& block : thinking) {
    turn.thinking.push_back(std::move(block));
  }
  for (auto& block : content) {
    turn.content.push_back(std::move(block));
  }
  for (auto& block : tool_uses) {
    out_.history_tool_names.push_back(block["name"].get<std::string>());
    turn.tool_uses.push_back(std::move(block));
  }
  for (auto& ref : refs) {
    turn.tool_use_refs.push_back(std::move(ref));
  }
  return {};
}

Result<void> Converter::CheckToolPairs() {
  for (std::size_t k = 0; k < turns_.size(); ++k) {
    Turn& turn = turns_[k];
    if (turn.assistant) {
      Turn* next = k + 1 < turns_.size() ? &turns_[k + 1] : nullptr;
      for (const auto& ref : turn.tool_use_refs) {
        const bool answered =
            next != nullptr && std::any_of(next->results.begin(), next->results.end(),
                                           [&](const ToolResult& r) { return r.id == ref.id; });
        if (!answered) {
          return InvalidParam(
              "An assistant message with 'tool_calls' must be followed by tool messages "
              "responding to each 'tool_call_id'. Missing response for '" +
                  ref.id + "'.",
              ref.param);
        }
      }
      continue;
    }
    if (turn.results.empty()) {
      continue;
    }
    const Turn* prev = k > 0 ? &turns_[k - 1] : nullptr;
    std::vector<ToolResult> ordered;
    ordered.reserve(turn.results.size());
    for (auto& result : turn.results) {
      const bool known = prev != nullptr &&
                         std::any_of(prev->tool_use_refs.begin(), prev->tool_use_refs.end(),
                                     [&](const ToolUseRef& ref) { return ref.id == result.id; });
      if (!known) {
        return InvalidParam("tool message responds to tool_call_id '" + result.id +
                                "', which no preceding assistant tool_calls contains",
                            result.param);
      }
    }
    // Anthropic wants the results first and in tool_use order.
    for (const auto& ref : prev->tool_use_refs) {
      for (auto& result : turn.results) {
        if (result.id == ref.id && !result.block.is_null()) {
          ordered.push_back(std::move(result));
          result.block = nullptr;
        }
      }
    }
    turn.results = std::move(ordered);
  }
  return {};
}

Result<void> Converter::HandlePrefill() {
  if (turns_.empty() || !turns_.back().assistant) {
    return {};
  }
  if (!ctx_.traits.supports_prefill) {
    if (!ctx_.options.drop_params) {
      return InvalidParam(
          "this model does not support assistant prefill (a final assistant message)", "messages");
    }
    ctx_.warnings.push_back("dropped the final assistant message (prefill unsupported)");
    turns_.pop_back();
    return {};
  }
  // "final assistant content cannot end with trailing whitespace"
  // (docs/anthropic-notes.md#prefill).
  Turn& turn = turns_.back();
  if (turn.tool_uses.empty() && !turn.content.empty() && turn.content.back()["type"] == "text") {
    auto& text = turn.content.back()["text"].get_ref<std::string&>();
    text.erase(text.find_last_not_of(" \t\r\n") + 1);
    if (text.empty()) {
      turn.content.erase(turn.content.size() - 1);
    }
    if (turn.content.empty() && turn.thinking.empty()) {
      turns_.pop_back();
    }
  }
  return {};
}

}  // namespace

Result<ConvertedMessages> ConvertMessages(const nlohmann::json& messages,
                                          const RequestContext& ctx) {
  return Converter(ctx).Run(messages);
}

}  // namespace claudegate::translate
