// Fuzzes anthropic::ScanBodyFields + ReplaceModel (the byte-exact /v1/messages relay).
//
// Checks, on any input:
// * no crash, exception or sanitizer report;
// * when the scan succeeds and finds a model: the offsets frame a JSON string inside the body,
//   ReplaceModel's output is valid JSON, and everything outside the model string is unchanged;
// * the scan agrees with a real JSON parser: the model/stream it reports are what upstream's
//   parser (last duplicate key wins, escapes decoded) will read, and after ReplaceModel upstream
//   reads the replacement model. A disagreement would let a client smuggle a model or stream
//   flag past the gateway's alias check.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/body_fields.hpp"

namespace {

void Check(bool ok, const char* what, std::string_view body) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\nbody: %.*s\n", what, static_cast<int>(body.size()),
                 body.data());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto fields = claudegate::anthropic::ScanBodyFields(body);
  if (!fields) {
    return 0;
  }
  const nlohmann::json parsed = nlohmann::json::parse(body);  // ScanBodyFields validated it.
  Check(parsed.is_object(), "a scanned body is an object", body);

  const auto model = parsed.find("model");
  const bool has_string_model = model != parsed.end() && model->is_string();
  Check(fields->model.has_value() == has_string_model, "scan finds the model the parser sees",
        body);
  const auto stream = parsed.find("stream");
  const bool streams = stream != parsed.end() && stream->is_boolean() && stream->get<bool>();
  Check(fields->stream == streams, "scan reads the stream flag the parser sees", body);
  if (!fields->model) {
    return 0;
  }
  Check(*fields->model == model->get<std::string>(), "scan decodes the model the parser sees",
        body);
  Check(fields->model_begin < fields->model_end && fields->model_end <= body.size(),
        "model offsets are inside the body", body);
  Check(body[fields->model_begin] == '"' && body[fields->model_end - 1] == '"',
        "model offsets frame a string", body);

  static constexpr std::string_view kReplacement = "claude-sonnet-5-5 \"\\\u00e9\x01";
  const std::string out = claudegate::anthropic::ReplaceModel(body, *fields, kReplacement);
  Check(nlohmann::json::accept(out), "ReplaceModel output is valid JSON", out);
  const nlohmann::json replaced = nlohmann::json::parse(out);
  Check(replaced.value("model", std::string()) == kReplacement,
        "upstream reads the replacement model", out);
  Check(out.compare(0, fields->model_begin, body.substr(0, fields->model_begin)) == 0 &&
            std::string_view(out).substr(out.size() - (body.size() - fields->model_end)) ==
                body.substr(fields->model_end),
        "bytes outside the model string are unchanged", out);
  return 0;
}
