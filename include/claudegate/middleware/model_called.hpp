/// @file model_called.hpp
/// The Anthropic model a finished request called: the fallback that answered, else what the
/// model it asked for resolves to. One rule for what a key's spend is priced at
/// (key_limits.hpp) and what the usage ledger records (usage_ledger.hpp).
#pragma once

#include <string>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/server/request_context.hpp"

namespace claudegate::middleware {

[[nodiscard]] inline std::string ModelCalledFor(const server::RequestContext& ctx,
                                                const config::ModelCatalog& models) {
  if (!ctx.usage.fallback_model.empty()) {
    return ctx.usage.fallback_model;
  }
  return models.Resolve(ctx.model).value_or(ctx.model);
}

}  // namespace claudegate::middleware
