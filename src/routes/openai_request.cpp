#include "claudegate/routes/openai_request.hpp"

#include <spdlog/spdlog.h>

#include "claudegate/exchange/details.hpp"
#include "claudegate/translate/request/json_depth.hpp"

namespace claudegate::routes {

JsonBody ParseJsonBody(std::string_view body, std::string_view expected) {
  JsonBody parsed;
  // Before any DOM is built: a deep body costs seconds and a GiB to parse (docs/security.md).
  if (translate::JsonTextExceedsDepth(body)) {
    parsed.error = translate::JsonTooDeep("The request body");
    parsed.details = details::kJsonTooDeep;
    return parsed;
  }
  parsed.json = nlohmann::json::parse(body, nullptr, false);
  if (parsed.json.is_discarded()) {
    parsed.error = Error(ErrorKind::kInvalidRequest,
                         "The request body is not valid JSON. Send " + std::string(expected) + ".",
                         {}, "invalid_json");
    parsed.details = details::kInvalidJson;
  }
  return parsed;
}

translate::TranslateOptions TranslateOptionsFor(const config::Config& config) {
  translate::TranslateOptions options;
  options.models = &config.models;
  options.drop_params = config.translation.drop_params;
  options.default_max_tokens = config.translation.default_max_tokens;
  options.anthropic_version = config.upstream.anthropic_version;
  options.caching = &config.prompt_caching;
  return options;
}

void LogTranslationNotes(const server::RequestContext& ctx,
                         const std::vector<std::string>& warnings,
                         std::size_t cache_breakpoints_added) {
  for (const auto& warning : warnings) {
    spdlog::debug("request {}: {}", ctx.request_id, warning);
  }
  if (cache_breakpoints_added > 0) {
    spdlog::debug("request {}: added {} cache breakpoint(s) (docs/prompt-caching.md)",
                  ctx.request_id, cache_breakpoints_added);
  }
}

exchange::ModelFallback JsonModelFallback(const config::Config& config, std::string_view requested,
                                          const nlohmann::json& body) {
  exchange::ModelFallback fallback;
  fallback.models = exchange::FallbacksFor(config.retries, config.models, requested);
  fallback.render = [&body](const std::string& upstream_id) {
    nlohmann::json copy = body;
    copy["model"] = upstream_id;
    return copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  return fallback;
}

}  // namespace claudegate::routes
