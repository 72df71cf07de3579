#include "claudegate/translate/request/generation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/json_schema.hpp"

namespace claudegate::translate {
namespace {

constexpr std::int64_t kMinThinkingBudget = 1024;
constexpr std::string_view kInterleavedThinkingBeta = "interleaved-thinking-2025-05-14";

struct BudgetRow {
  std::string_view effort;
  std::int64_t budget;
};
// CLIProxyAPI's budgets (docs/anthropic-notes.md#reasoning-effort: LiteLLM's 4096 is small).
constexpr std::array kBudgets{BudgetRow{"minimal", 1024}, BudgetRow{"low", 1024},
                              BudgetRow{"medium", 8192},  BudgetRow{"high", 24576},
                              BudgetRow{"xhigh", 32768},  BudgetRow{"max", 128000}};

// What the thinking decision produced.
struct Thinking {
  nlohmann::json config;  // `thinking`, or null to omit.
  std::string effort;     // `output_config.effort`, or empty.
  bool active = false;    // Thinking will run (explicitly enabled).
};

Result<std::int64_t> MaxTokens(const nlohmann::json& request, const RequestContext& ctx,
                               bool& client_set) {
  const char* param = "max_completion_tokens";
  const nlohmann::json* value = Field(request, param);
  if (value == nullptr) {
    param = "max_tokens";
    value = Field(request, param);
  }
  std::int64_t tokens = ctx.options.default_max_tokens;
  client_set = value != nullptr;
  if (value != nullptr) {
    if (!value->is_number()) {
      return InvalidParam(std::string(param) + " must be an integer", param);
    }
    tokens = std::llround(value->get<double>());
    if (tokens < 1) {
      return InvalidParam(std::string(param) + " must be at least 1", param);
    }
  }
  const std::int64_t max_out = ctx.traits.max_output_tokens;
  if (max_out > 0 && tokens > max_out) {
    if (client_set) {
      ctx.warnings.push_back(std::string(param) + " clamped to the model maximum " +
                             std::to_string(max_out));
    }
    tokens = max_out;
  }
  return tokens;
}

std::string StepDownEffort(std::string effort, const ModelTraits& traits) {
  if (effort == "max" && !traits.supports_max_effort) {
    effort = "xhigh";
  }
  if (effort == "xhigh" && !traits.supports_xhigh_effort) {
    effort = "high";
  }
  return effort;
}

Result<Thinking> DecideThinking(const nlohmann::json& request, const RequestContext& ctx,
                                std::int64_t& max_tokens, bool client_set_max) {
  Thinking out;
  const nlohmann::json* value = Field(request, "reasoning_effort");
  if (value == nullptr) {
    return out;
  }
  const std::string effort = value->is_string() ? value->get<std::string>() : "";
  const bool known =
      effort == "none" || std::any_of(kBudgets.begin(), kBudgets.end(),
                                      [&](const BudgetRow& r) { return r.effort == effort; });
  if (!known) {
    return InvalidParam(
        "reasoning_effort must be one of none, minimal, low, medium, high, xhigh, max",
        "reasoning_effort");
  }
  const ModelTraits& traits = ctx.traits;
  switch (traits.thinking) {
    case ThinkingStyle::kNone:
      ctx.warnings.push_back("dropped reasoning_effort: the model has no extended thinking");
      return out;
    case ThinkingStyle::kAdaptive:
      if (effort == "none") {
        if (traits.can_disable_thinking) {
          out.config = {{"type", "disabled"}};
        } else if (traits.supports_between_tools) {
          out.config = {{"type", "between_tools"}};
        } else if (traits.supports_effort) {
          out.effort = "low";  // Thinking cannot be turned off; make it as small as possible.
        }
        return out;
      }
      out.config = {{"type", "adaptive"}, {"display", "summarized"}};
      if (traits.supports_effort) {
        out.effort = StepDownEffort(effort == "minimal" ? "low" : effort, traits);
      }
      out.active = true;
      return out;
    case ThinkingStyle::kBudget:
      break;
  }
  if (effort == "none") {
    return out;  // Off by default on budget models.
  }
  std::int64_t budget = 0;
  for (const auto& row : kBudgets) {
    if (row.effort == effort) {
      budget = row.budget;
    }
  }
  const std::int64_t max_out = traits.max_output_tokens;
  if (!client_set_max) {
    max_tokens = std::max(max_tokens, budget + ctx.options.default_max_tokens);
    if (max_out > 0) {
      max_tokens = std::min(max_tokens, max_out);
    }
  }
  if (max_tokens <= kMinThinkingBudget) {
    ctx.warnings.push_back("dropped reasoning_effort: max_tokens is too small for thinking");
    return out;
  }
  budget = std::min(budget, max_tokens - 1);  // budget_tokens must be below max_tokens.
  out.config = {{"type", "enabled"}, {"budget_tokens", budget}};
  out.active = true;
  return out;
}

// A forced tool choice: rejected on some models, incompatible with thinking on others
// (docs/anthropic-notes.md#tools-and-tool-choice).
Result<void> ReconcileForcedTools(const RequestContext& ctx, nlohmann::json& body,
                                  Thinking& thinking) {
  const auto choice = body.find("tool_choice");
  if (choice == body.end() || !choice->is_object()) {
    return {};
  }
  const std::string type = choice->value("type", "");
  if (type != "any" && type != "tool") {
    return {};
  }
  const ModelTraits& traits = ctx.traits;
  if (!traits.forced_tool_choice_ok) {
    if (!ctx.options.drop_params) {
      return InvalidParam(
          "this model does not support forced tool use (tool_choice \"required\" or a named "
          "function); use \"auto\"",
          "tool_choice");
    }
    (*choice)["type"] = "auto";
    choice->erase("name");
    ctx.warnings.push_back("tool_choice relaxed to auto: the model rejects forced tool use");
    return {};
  }
  const bool would_think =
      thinking.active || (thinking.config.is_null() && traits.thinking_default_on);
  if (!would_think) {
    return {};
  }
  if (traits.thinking == ThinkingStyle::kBudget) {
    thinking = Thinking{};
    ctx.warnings.push_back("thinking dropped: incompatible with forced tool use");
  } else if (traits.can_disable_thinking) {
    thinking.config = {{"type", "disabled"}};
    thinking.active = false;
    if (thinking.effort == "xhigh" || thinking.effort == "max") {
      thinking.effort = "high";  // Disabled thinking is accepted at effort high or below.
    }
    ctx.warnings.push_back("thinking disabled: incompatible with forced tool use");
  }
  return {};
}

Result<void> ApplySampling(const nlohmann::json& request, const RequestContext& ctx,
                           bool thinking_active, nlohmann::json& body) {
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> top_k;
  for (const char* name : {"temperature", "top_p", "top_k"}) {
    const nlohmann::json* value = Field(request, name);
    if (value == nullptr) {
      continue;
    }
    if (!value->is_number()) {
      return InvalidParam(std::string(name) + " must be a number", name);
    }
    const double v = value->get<double>();
    if (v < 0) {
      return InvalidParam(std::string(name) + " must not be negative", name);
    }
    if (name == std::string_view("temperature")) {
      temperature = std::min(v, 1.0);  // OpenAI allows 0–2, Anthropic 0–1: clamp, don't scale.
    } else if (name == std::string_view("top_p")) {
      top_p = std::min(v, 1.0);
    } else {
      top_k = std::llround(v);
    }
  }
  if (!temperature && !top_p && !top_k) {
    return {};
  }
  const bool accepts = ctx.traits.accepts_sampling && ctx.options.anthropic_version == "2023-06-01";
  if (!accepts) {
    // Nearly every client sends temperature: dropped silently
    // (docs/anthropic-notes.md#sampling-parameters).
    return {};
  }
  if (thinking_active) {
    if (temperature && *temperature == 1.0) {
      body["temperature"] = 1.0;
    }
    return {};
  }
  if (temperature) {
    body["temperature"] = *temperature;
  } else if (top_p) {
    body["top_p"] = *top_p;  // Some models take temperature or top_p, not both: prefer the former.
  }
  if (top_k) {
    body["top_k"] = *top_k;
  }
  return {};
}

Result<void> ApplyResponseFormat(const nlohmann::json& request, const RequestContext& ctx,
                                 nlohmann::json& body, nlohmann::json& output_config) {
  const nlohmann::json* format = Field(request, "response_format");
  if (format == nullptr) {
    return {};
  }
  const nlohmann::json* type = format->is_object() ? Field(*format, "type") : nullptr;
  if (type == nullptr || !type->is_string()) {
    return InvalidParam("response_format needs a type", "response_format.type");
  }
  if (*type == "text") {
    return {};
  }
  if (*type == "json_object") {
    body["system"].push_back({{"type", "text"}, {"text", kJsonObjectInstruction}});
    return {};
  }
  if (*type != "json_schema") {
    return InvalidParam("unsupported response_format type", "response_format.type");
  }
  const nlohmann::json* spec = Field(*format, "json_schema");
  const nlohmann::json* schema =
      spec != nullptr && spec->is_object() ? Field(*spec, "schema") : nullptr;
  if (schema == nullptr || !schema->is_object()) {
    return InvalidParam("response_format.json_schema.schema must be a JSON Schema object",
                        "response_format.json_schema.schema");
  }
  if (!ctx.traits.structured_outputs) {
    return InvalidParam("this model does not support structured outputs (json_schema)",
                        "response_format");
  }
  output_config["format"] = {{"type", "json_schema"}, {"schema", TransformOutputSchema(*schema)}};
  return {};
}

Result<void> ApplyStop(const nlohmann::json& request, const RequestContext& ctx,
                       nlohmann::json& body) {
  const nlohmann::json* stop = Field(request, "stop");
  if (stop == nullptr) {
    return {};
  }
  nlohmann::json list = stop->is_string() ? nlohmann::json::array({*stop}) : *stop;
  if (!list.is_array()) {
    return InvalidParam("stop must be a string or an array of strings", "stop");
  }
  nlohmann::json sequences = nlohmann::json::array();
  for (const auto& entry : list) {
    if (!entry.is_string()) {
      return InvalidParam("stop must be a string or an array of strings", "stop");
    }
    const auto& s = entry.get_ref<const std::string&>();
    if (s.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
      // Anthropic rejects whitespace-only stop sequences
      // (docs/anthropic-notes.md#whitespace-stop-sequences).
      ctx.warnings.push_back("dropped an empty or whitespace-only stop sequence");
      continue;
    }
    sequences.push_back(entry);
  }
  if (!sequences.empty()) {
    body["stop_sequences"] = std::move(sequences);
  }
  return {};
}

}  // namespace

Result<void> ApplyGeneration(const nlohmann::json& request, const RequestContext& ctx,
                             nlohmann::json& body, std::vector<std::string>& betas) {
  bool client_set_max = false;
  auto max_tokens = MaxTokens(request, ctx, client_set_max);
  if (!max_tokens) {
    return max_tokens.error();
  }
  const std::int64_t requested_max_tokens = *max_tokens;
  auto thinking = DecideThinking(request, ctx, *max_tokens, client_set_max);
  if (!thinking) {
    return thinking.error();
  }
  if (auto r = ReconcileForcedTools(ctx, body, *thinking); !r) {
    return r;
  }
  if (thinking->config.is_null()) {
    *max_tokens = requested_max_tokens;  // Only a thinking budget justified raising it.
  }
  body["max_tokens"] = *max_tokens;
  if (!thinking->config.is_null()) {
    body["thinking"] = thinking->config;
    if (thinking->config["type"] == "enabled" && body.contains("tools")) {
      betas.emplace_back(kInterleavedThinkingBeta);  // Budget thinking between tool calls.
    }
  }
  nlohmann::json output_config = nlohmann::json::object();
  if (!thinking->effort.empty()) {
    output_config["effort"] = thinking->effort;
  }
  if (auto r = ApplyResponseFormat(request, ctx, body, output_config); !r) {
    return r;
  }
  if (!output_config.empty()) {
    body["output_config"] = std::move(output_config);
  }
  if (auto r = ApplySampling(request, ctx, thinking->active, body); !r) {
    return r;
  }
  return ApplyStop(request, ctx, body);
}

}  // namespace claudegate::translate
