/// @file body_fields.hpp
/// Reads the few top-level fields the `/v1/messages` relay must inspect (`model`, `stream`)
/// straight from the raw JSON text, and replaces the model value in place, so the rest of the body
/// is relayed byte for byte: new Claude Code versions send fields nobody has heard of yet, and a
/// parse-and-rebuild would reorder, reformat or drop them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "claudegate/error.hpp"

namespace claudegate::anthropic {

/// Where the top-level fields are in a request body.
struct BodyFields {
  std::optional<std::string> model;  ///< Decoded value of top-level "model", if a string.
  std::size_t model_begin = 0;       ///< Offset of the model string's opening quote.
  std::size_t model_end = 0;         ///< Offset one past its closing quote.
  bool stream = false;               ///< Top-level "stream" is `true`.
};

/// Scans `body`, which must be one JSON object. Errors (kInvalidRequest): not valid JSON, or not
/// an object. Linear time, no allocation beyond the decoded model string.
[[nodiscard]] Result<BodyFields> ScanBodyFields(std::string_view body);

/// `body` with the model string (located by `fields`) replaced by `model`, JSON-escaped.
[[nodiscard]] std::string ReplaceModel(std::string_view body, const BodyFields& fields,
                                       std::string_view model);

}  // namespace claudegate::anthropic
