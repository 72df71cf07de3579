/// @file json_schema.hpp
/// Rewrites an OpenAI `response_format.json_schema.schema` into the JSON Schema subset Anthropic's
/// structured outputs accept, the way the Anthropic TypeScript SDK's `transformJSONSchema` does
/// (docs/anthropic-notes.md#response-format).
///
/// Pure and thread-safe.
#pragma once

#include <nlohmann/json.hpp>

namespace claudegate::translate {

/// Returns the transformed schema: every object gets `properties` (possibly empty) and
/// `additionalProperties:false`; `oneOf` becomes `anyOf`; `$defs`/`$ref`, `anyOf`, `allOf`,
/// `type`, `description`, `title`, `required`, `items`, `enum` and `const` are kept; string
/// `format` is kept only for the supported formats; `minItems` only when 0 or 1; every other
/// keyword is moved into `description` as `{key: value, …}` so the model still sees it.
/// Non-object input is returned unchanged.
[[nodiscard]] nlohmann::json TransformOutputSchema(const nlohmann::json& schema);

}  // namespace claudegate::translate
