#include "claudegate/translate/response/response_common.hpp"

namespace claudegate::translate {
namespace {

void OverwriteIfPresent(const nlohmann::json& obj, std::string_view key, std::int64_t& target) {
  const auto it = obj.find(key);
  if (it != obj.end() && it->is_number()) {
    target = it->get<std::int64_t>();
  }
}

}  // namespace

void UpdateUsage(Usage& usage, const nlohmann::json& anthropic_usage) {
  if (!anthropic_usage.is_object()) {
    return;
  }
  OverwriteIfPresent(anthropic_usage, "input_tokens", usage.input_tokens);
  OverwriteIfPresent(anthropic_usage, "output_tokens", usage.output_tokens);
  OverwriteIfPresent(anthropic_usage, "cache_read_input_tokens", usage.cache_read_input_tokens);
  OverwriteIfPresent(anthropic_usage, "cache_creation_input_tokens",
                     usage.cache_creation_input_tokens);
  const auto details = anthropic_usage.find("output_tokens_details");
  if (details != anthropic_usage.end() && details->is_object()) {
    const auto thinking = details->find("thinking_tokens");
    if (thinking != details->end() && thinking->is_number()) {
      usage.thinking_tokens = thinking->get<std::int64_t>();
    }
  }
}

nlohmann::json OpenAiUsage(const Usage& usage) {
  nlohmann::json out = {
      {"prompt_tokens", usage.prompt_tokens()},
      {"completion_tokens", usage.output_tokens},
      {"total_tokens", usage.prompt_tokens() + usage.output_tokens},
      {"prompt_tokens_details",
       {{"cached_tokens", usage.cache_read_input_tokens},
        {"cache_write_tokens", usage.cache_creation_input_tokens}}},
  };
  if (usage.thinking_tokens) {
    out["completion_tokens_details"] = {{"reasoning_tokens", *usage.thinking_tokens}};
  }
  out["cache_read_input_tokens"] = usage.cache_read_input_tokens;
  out["cache_creation_input_tokens"] = usage.cache_creation_input_tokens;
  return out;
}

void AppendOpenAiUsage(std::string& out, const Usage& usage) {
  // Same keys and order as OpenAiUsage() (nlohmann objects are sorted, so match that order).
  out.append("{\"cache_creation_input_tokens\":");
  out.append(std::to_string(usage.cache_creation_input_tokens));
  out.append(",\"cache_read_input_tokens\":");
  out.append(std::to_string(usage.cache_read_input_tokens));
  out.append(",\"completion_tokens\":");
  out.append(std::to_string(usage.output_tokens));
  if (usage.thinking_tokens) {
    out.append(",\"completion_tokens_details\":{\"reasoning_tokens\":");
    out.append(std::to_string(*usage.thinking_tokens));
    out.push_back('}');
  }
  out.append(",\"prompt_tokens\":");
  out.append(std::to_string(usage.prompt_tokens()));
  out.append(",\"prompt_tokens_details\":{\"cache_write_tokens\":");
  out.append(std::to_string(usage.cache_creation_input_tokens));
  out.append(",\"cached_tokens\":");
  out.append(std::to_string(usage.cache_read_input_tokens));
  out.append("},\"total_tokens\":");
  out.append(std::to_string(usage.prompt_tokens() + usage.output_tokens));
  out.push_back('}');
}

std::string_view FinishReason(std::string_view stop_reason, bool has_tool_calls) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return "length";
  }
  if (stop_reason == "tool_use") {
    return has_tool_calls ? "tool_calls" : "stop";
  }
  if (stop_reason == "refusal") {
    return "content_filter";
  }
  // end_turn, stop_sequence, pause_turn and values added later
  // (docs/anthropic-notes.md#finish-reason).
  return "stop";
}

std::string ChatCompletionId(std::string_view message_id) {
  std::string id = "chatcmpl-";
  id.append(message_id.empty() ? std::string_view("claudegate") : message_id);
  return id;
}

}  // namespace claudegate::translate
