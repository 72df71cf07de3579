// Fuzzes translate::ResponsesToAnthropic (POST /v1/responses) with arbitrary JSON: no crash, no
// exception, and a successful result carries a well-formed Anthropic body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/translate/request/responses_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const claudegate::config::ModelCatalog kCatalog(
      claudegate::config::ModelCatalog::DefaultAliases());
  const nlohmann::json request = nlohmann::json::parse(data, data + size, nullptr, false);
  if (request.is_discarded()) {
    return 0;
  }
  for (const bool drop_params : {false, true}) {
    claudegate::translate::TranslateOptions options;
    options.models = &kCatalog;
    options.drop_params = drop_params;
    const auto result = claudegate::translate::ResponsesToAnthropic(request, options);
    if (!result) {
      continue;
    }
    const nlohmann::json& body = result->anthropic.body;
    if (!body.is_object() || !body.contains("model") || !body["model"].is_string() ||
        !body.contains("messages") || !body["messages"].is_array()) {
      std::fprintf(stderr, "malformed Anthropic body: %s\n",
                   body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      std::abort();
    }
    // As the handlers serialise it (invalid UTF-8 from decoded text files becomes U+FFFD).
    (void)body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)result->echo.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
