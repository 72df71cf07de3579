/// @file fallbacks.hpp
/// The models a request falls back to (LiteLLM's `fallbacks` and `context_window_fallbacks`,
/// config/retries.hpp), resolved through the model catalog, and which failure moves to which list
/// (docs/architecture.md, "The exchange and the pump").
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/config/retries.hpp"
#include "claudegate/exchange/retry_policy.hpp"

namespace claudegate::exchange {

/// One model to try: the name the client is told (`model` in the response) and the id sent.
struct FallbackModel {
  std::string name;
  std::string upstream_id;
};

/// The fallbacks of one requested model.
struct FallbackModels {
  std::vector<FallbackModel> general;         ///< `fallbacks`.
  std::vector<FallbackModel> context_window;  ///< `context_window_fallbacks`.
  [[nodiscard]] bool empty() const { return general.empty() && context_window.empty(); }
};

/// The fallbacks configured for `requested`: the first rule whose model is `requested` or
/// resolves to the same upstream id. Targets that do not resolve, or resolve to the requested
/// model itself, are skipped.
[[nodiscard]] FallbackModels FallbacksFor(const config::Retries& settings,
                                          const config::ModelCatalog& models,
                                          std::string_view requested);

/// The list a failure that was not (or no longer) retried falls back through, or nullptr:
/// `context_window` for a prompt too long, `general` for a model that stays overloaded or
/// unavailable, is rate limited or refused by the plan. Never after a first-byte timeout (the
/// request may still be running) or a failure of the client's request.
[[nodiscard]] const std::vector<FallbackModel>* FallbackListFor(const FallbackModels& fallbacks,
                                                                FailureKind kind);

/// What `Exchange::Open` needs to send the same request to another model.
struct ModelFallback {
  FallbackModels models;
  /// The request body for `upstream_id` (the model field replaced, nothing else changed).
  std::function<std::string(const std::string& upstream_id)> render;
};

}  // namespace claudegate::exchange
