/// @file openai_request.hpp
/// The parse step the OpenAI routes (chat completions, Responses) share: the body checked for
/// depth before any parser sees it (docs/security.md), parsed, and the translation options built
/// from the configuration.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/config/config.hpp"
#include "claudegate/error.hpp"
#include "claudegate/exchange/fallbacks.hpp"
#include "claudegate/server/request_context.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::routes {

/// A request body parsed as JSON, or why it cannot be (the error and its `details` label).
struct JsonBody {
  nlohmann::json json;
  std::optional<Error> error;
  std::string_view details;
};

/// Parses `body`; `expected` names what it should be ("a chat completions request object").
[[nodiscard]] JsonBody ParseJsonBody(std::string_view body, std::string_view expected);

/// The translation options every OpenAI route uses.
[[nodiscard]] translate::TranslateOptions TranslateOptionsFor(const config::Config& config);

/// Debug-logs what the translation dropped or changed, and the cache breakpoints it added.
void LogTranslationNotes(const server::RequestContext& ctx,
                         const std::vector<std::string>& warnings,
                         std::size_t cache_breakpoints_added);

/// The fallbacks of a translated request (docs/configuration.md, "Retries and fallbacks"):
/// `body`, the Anthropic body, which must outlive the exchange, with only `model` replaced.
[[nodiscard]] exchange::ModelFallback JsonModelFallback(const config::Config& config,
                                                        std::string_view requested,
                                                        const nlohmann::json& body);

/// The model name the client is told answered: the fallback's, else the one it asked for.
[[nodiscard]] inline const std::string& AnsweringModel(const std::string& fallback_model,
                                                       const std::string& requested) {
  return fallback_model.empty() ? requested : fallback_model;
}

}  // namespace claudegate::routes
