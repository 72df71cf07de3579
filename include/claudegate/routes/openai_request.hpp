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
#include "claudegate/http/request_context.hpp"
#include "claudegate/translate/translate_options.hpp"

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

}  // namespace claudegate::routes
