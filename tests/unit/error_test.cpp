#include "claudegate/error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace claudegate {
namespace {

nlohmann::json NullIfEmpty(const std::string& value) {
  return value.empty() ? nlohmann::json(nullptr) : nlohmann::json(value);
}

// The bodies used to be built as a DOM and dumped; the hand-written ones must give the same bytes.
std::string OpenAiViaDom(const Error& error) {
  const nlohmann::json body = {{"error",
                                {{"message", error.message},
                                 {"type", OpenAiErrorType(error.kind)},
                                 {"param", NullIfEmpty(error.param)},
                                 {"code", NullIfEmpty(error.code)}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string AnthropicViaDom(const Error& error) {
  const nlohmann::json body = {
      {"type", "error"},
      {"error", {{"type", AnthropicErrorType(error.kind)}, {"message", error.message}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(ErrorBody, MatchesTheDomSerialisationByteForByte) {
  const std::vector<Error> errors = {
      Error{ErrorKind::kAuthentication, "Invalid API key.", {}, "invalid_api_key"},
      Error{ErrorKind::kInvalidRequest,
            "bad \"model\"\n\ttab\\slash \x01 caf\xC3\xA9 \xF0\x9F\x98\x80",
            "model",
            {}},
      Error{ErrorKind::kUpstreamTimeout, "", {}, {}},
      Error{ErrorKind::kUpstreamAuthentication, "x", "p", "c"},
      Error{ErrorKind::kServiceUnavailable,
            "Too many open connections; retry shortly.",
            {},
            "too_many_connections"},
      Error{ErrorKind::kCredentialUnavailable, "logged out: run `claude login`", {}, {}},
  };
  for (const Error& error : errors) {
    SCOPED_TRACE(error.message);
    EXPECT_EQ(OpenAiErrorBody(error), OpenAiViaDom(error));
    EXPECT_EQ(AnthropicErrorBody(error), AnthropicViaDom(error));
    EXPECT_EQ(ErrorBody(ApiFlavor::kOpenAi, error), OpenAiViaDom(error));
    EXPECT_EQ(ErrorBody(ApiFlavor::kAnthropic, error), AnthropicViaDom(error));
  }
}

}  // namespace
}  // namespace claudegate
