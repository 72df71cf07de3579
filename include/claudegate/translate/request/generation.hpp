/// @file generation.hpp
/// The generation controls of a chat request: `max_tokens`, `reasoning_effort` → `thinking` /
/// `output_config.effort`, forced tool choice vs. thinking, sampling parameters,
/// `response_format` and `stop` (docs/anthropic-notes.md#request-fields, #max-tokens to
/// #reasoning-effort, #max-tokens-and-thinking, #forced-tool-choice-and-thinking,
/// #whitespace-stop-sequences, #temperature-range).
///
/// Pure and thread-safe. Internal to request translation.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::translate {

/// Reads the generation fields of `request` and writes `max_tokens`, `thinking`,
/// `output_config`, `temperature`/`top_p`/`top_k`, `stop_sequences` into `body`. `body` must
/// already hold `system` (an array; `response_format: json_object` appends an instruction to it)
/// and any `tools`/`tool_choice` (a forced choice may be relaxed or turn thinking off).
/// Extra `anthropic-beta` values go to `betas`.
///
/// @par Errors
/// 400 naming the parameter for wrong types, out-of-range values, unknown `reasoning_effort` or
/// `response_format` types, and a forced `tool_choice` on a model that rejects it (unless
/// `drop_params`).
[[nodiscard]] Result<void> ApplyGeneration(const nlohmann::json& request, const RequestContext& ctx,
                                           nlohmann::json& body, std::vector<std::string>& betas);

/// The instruction added to `system` for `response_format: json_object` (best effort: Anthropic
/// has no schema-less JSON mode).
inline constexpr std::string_view kJsonObjectInstruction =
    "Respond only with a single valid JSON object.";

}  // namespace claudegate::translate
