#include "claudegate/exchange/fallbacks.hpp"

namespace claudegate::exchange {
namespace {

std::vector<FallbackModel> Resolve(const std::vector<config::FallbackRule>& rules,
                                   const config::ModelCatalog& models, std::string_view requested,
                                   const std::string& requested_id) {
  std::vector<FallbackModel> out;
  for (const auto& rule : rules) {
    if (rule.model != requested && models.Resolve(rule.model) != requested_id) {
      continue;
    }
    for (const auto& target : rule.targets) {
      auto id = models.Resolve(target);
      if (id && *id != requested_id) {
        out.push_back(FallbackModel{target, std::move(*id)});
      }
    }
    break;  // the first matching rule, as LiteLLM reads its list
  }
  return out;
}

}  // namespace

FallbackModels FallbacksFor(const config::Retries& settings, const config::ModelCatalog& models,
                            std::string_view requested) {
  FallbackModels out;
  const auto requested_id = models.Resolve(requested);
  if (!requested_id) {
    return out;
  }
  out.general = Resolve(settings.fallbacks, models, requested, *requested_id);
  out.context_window = Resolve(settings.context_window_fallbacks, models, requested, *requested_id);
  return out;
}

const std::vector<FallbackModel>* FallbackListFor(const FallbackModels& fallbacks,
                                                  FailureKind kind) {
  switch (kind) {
    case FailureKind::kPromptTooLong:
      return &fallbacks.context_window;
    case FailureKind::kOverloaded:
    case FailureKind::kServerError:
    case FailureKind::kConnection:
    case FailureKind::kTls:
    case FailureKind::kConnectTimeout:
    case FailureKind::kRateLimited:
    case FailureKind::kStreamError:
    case FailureKind::kPlanRefusal:
      return &fallbacks.general;
    case FailureKind::kFirstByteTimeout:
    case FailureKind::kNotRetryable:
      return nullptr;
  }
  return nullptr;
}

}  // namespace claudegate::exchange
