#include "claudegate/translate/request/model_traits.hpp"

#include <array>

namespace claudegate::translate {
namespace {

constexpr std::int64_t k64K = 64000;
constexpr std::int64_t k128K = 128000;
constexpr std::size_t kDateSuffixLength = 9;  // "-YYYYMMDD"

struct Row {
  std::string_view id;
  ModelTraits traits;
};

ModelTraits Budget45(bool effort) {
  ModelTraits t;
  t.accepts_sampling = true;
  t.thinking = ThinkingStyle::kBudget;
  t.supports_effort = effort;
  t.supports_xhigh_effort = false;
  t.supports_max_effort = false;
  t.max_output_tokens = k64K;
  return t;
}

ModelTraits Adaptive(bool sampling, bool default_on, bool can_disable, bool xhigh,
                     std::int64_t max_out) {
  ModelTraits t;
  t.accepts_sampling = sampling;
  t.thinking_default_on = default_on;
  t.can_disable_thinking = can_disable;
  t.supports_xhigh_effort = xhigh;
  t.max_output_tokens = max_out;
  return t;
}

// Opus 5.5, Sonnet 5.5: no forced tool choice, no prefill (docs/anthropic-notes.md#prefill).
ModelTraits Restricted55(bool between_tools) {
  ModelTraits t = Adaptive(false, true, false, true, k128K);
  t.supports_between_tools = between_tools;
  t.forced_tool_choice_ok = false;
  t.supports_prefill = false;
  return t;
}

ModelTraits NoForcedTools(ModelTraits t) {
  t.forced_tool_choice_ok = false;
  return t;
}

ModelTraits NoPrefill(ModelTraits t) {
  t.supports_prefill = false;
  return t;
}

const std::array<Row, 21>& Table() {
  static const std::array<Row, 21> kTable{{
      {"claude-haiku-4-5", Budget45(false)},
      {"claude-sonnet-4-5", Budget45(false)},
      {"claude-opus-4-5", Budget45(true)},
      {"claude-opus-4-6", Adaptive(true, false, true, false, k128K)},
      {"claude-sonnet-4-6", Adaptive(true, false, true, false, 0)},
      {"claude-opus-4-7", Adaptive(false, false, true, true, k128K)},
      {"claude-opus-4-8", Adaptive(false, false, true, true, k128K)},
      {"claude-mythos-preview", Adaptive(false, false, true, true, 0)},
      {"claude-sonnet-5", Adaptive(false, true, true, true, k128K)},
      {"claude-opus-5", NoPrefill(Adaptive(false, true, true, true, k128K))},
      {"claude-fable-5", Adaptive(false, true, false, true, k128K)},
      {"claude-mythos-5", Adaptive(false, true, false, true, k128K)},
      {"claude-fable-5-1", NoForcedTools(Adaptive(false, true, false, true, k128K))},
      {"claude-mythos-5-1", Adaptive(false, true, false, true, k128K)},
      {"claude-fable-5-2", NoForcedTools(Adaptive(false, true, false, true, k128K))},
      {"claude-mythos-5-2", Adaptive(false, true, false, true, k128K)},
      {"claude-opus-5-5", Restricted55(false)},
      {"claude-sonnet-5-5", Restricted55(true)},
      {"claude-haiku-5-5", NoPrefill(Adaptive(false, true, false, true, k128K))},
      {"claude-3-7-sonnet", Budget45(false)},
      {"claude-3-7-sonnet-latest", Budget45(false)},
  }};
  return kTable;
}

bool HasDateSuffix(std::string_view id) {
  if (id.size() <= kDateSuffixLength || id[id.size() - kDateSuffixLength] != '-') {
    return false;
  }
  for (std::size_t i = id.size() - kDateSuffixLength + 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

ModelTraits DefaultModelTraits(std::string_view model_id) {
  if (HasDateSuffix(model_id)) {
    model_id.remove_suffix(kDateSuffixLength);
  }
  for (const auto& row : Table()) {
    if (row.id == model_id) {
      return row.traits;
    }
  }
  if (model_id.starts_with("claude-3")) {
    ModelTraits t = Budget45(false);
    t.thinking = ThinkingStyle::kNone;
    t.structured_outputs = false;
    t.max_output_tokens = 0;
    return t;
  }
  return ModelTraits{};
}

}  // namespace claudegate::translate
