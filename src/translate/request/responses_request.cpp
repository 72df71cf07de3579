#include "claudegate/translate/request/responses_request.hpp"

#include <algorithm>
#include <array>

#include "claudegate/translate/request/json_depth.hpp"
#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/responses_rewrite.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

class Rewriter {
 public:
  explicit Rewriter(const TranslateOptions& options) : rw_{options, {}, json::array(), {}, false} {}

  Result<ChatEquivalent> Run(const json& request);

 private:
  Result<void> CheckStateless(const json& request);
  Result<void> ConvertText(const json& request);
  void Rename(std::string from, std::string to) { rw_.Rename(std::move(from), std::move(to)); }
  std::string NextMessageParam() const { return rw_.NextMessageParam(); }

  ResponsesRewrite rw_;
  ChatEquivalent& out_ = rw_.out;
  json& messages_ = rw_.messages;
};

Result<ChatEquivalent> Rewriter::Run(const json& request) {
  if (auto r = CheckStateless(request); !r) {
    return r.error();
  }
  json& chat = out_.chat;
  chat = json::object();
  if (const json* tools = Field(request, "tools")) {
    rw_.names = ToolNameMap::FromResponsesTools(*tools);
    if (tools->is_array()) {
      rw_.offers_web_search = std::any_of(tools->begin(), tools->end(), [](const json& tool) {
        return tool.is_object() && IsWebSearchTool(tool.value("type", ""));
      });
    }
  }
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
  if (auto r = RewriteInput(rw_, *input); !r) {
    return r.error();
  }
  chat["messages"] = std::move(messages_);
  Rename("messages", "input");

  if (auto r = RewriteTools(rw_, request); !r) {
    return r.error();
  }
  if (auto r = RewriteToolChoice(rw_, request); !r) {
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
    if (!rw_.options.drop_params) {
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
