// Fuzzes translate::ToAnthropic (POST /v1/chat/completions) with arbitrary JSON.
//
// The input is parsed as JSON (non-JSON is dropped early, as the handler answers 400 before the
// translator runs) and translated with and without drop_params. Checks: no crash, no exception
// (ToAnthropic promises Result, never throws), and a successful result is a well-formed Anthropic
// body: an object with a string model equal to upstream_model, a messages array and a positive
// max_tokens, which serialises without throwing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/translate/request/chat_request.hpp"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

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
    options.always_stream_upstream = (size & 1U) == 0;
    const auto result = claudegate::translate::ToAnthropic(request, options);
    if (!result) {
      Check(!result.error().message.empty(), "an error has a message");
      continue;
    }
    const nlohmann::json& body = result->body;
    Check(body.is_object(), "body is an object");
    Check(body.contains("model") && body["model"].is_string(), "body.model is a string");
    Check(body["model"].get<std::string>() == result->upstream_model, "model == upstream_model");
    Check(body.contains("messages") && body["messages"].is_array(), "messages is an array");
    Check(body.contains("max_tokens") && body["max_tokens"].is_number_integer() &&
              body["max_tokens"].get<std::int64_t>() > 0,
          "max_tokens is a positive integer");
    // As the handlers serialise it (invalid UTF-8 from decoded text files becomes U+FFFD).
    (void)body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
