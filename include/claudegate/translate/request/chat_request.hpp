/// @file chat_request.hpp
/// Request translation: an OpenAI Chat Completions request → an Anthropic Messages request
/// (docs/anthropic-notes.md, from #request-fields to #edge-cases). The entry point of
/// `claudegate::translate` for the OpenAI route.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::translate {

/// The Anthropic request to send, plus what the response side needs.
struct AnthropicRequest {
  nlohmann::json body;                ///< The `POST /v1/messages` body.
  bool stream = false;                ///< The client asked for a stream (`stream:true`).
  bool include_usage = false;         ///< `stream_options.include_usage`.
  std::string requested_model;        ///< The client's `model`, to echo back.
  std::string upstream_model;         ///< The resolved Anthropic id (also in `body["model"]`).
  std::vector<std::string> betas;     ///< Extra `anthropic-beta` values this request needs.
  std::vector<std::string> warnings;  ///< Parameters dropped or changed (log; optionally
                                      ///< `x-claudegate-warning`).
  std::size_t cache_breakpoints_added = 0;  ///< By automatic prompt caching (for the log).
};

/// Translates `request` (the parsed client body).
///
/// Handles `model` (alias → id; non-`claude-` unknown → 404 `model_not_found`), `messages`
/// (see `ConvertMessages`), tools and `tool_choice` (see `ConvertTools`), `max_completion_tokens`
/// / `max_tokens` (default and clamp), sampling (`temperature`, `top_p`, `top_k`: only for
/// models and API versions that accept them; clamped to [0,1]), `stop` → `stop_sequences`
/// (whitespace-only entries dropped), `safety_identifier`/`user` → `metadata.user_id` as
/// hex SHA-256, `response_format` → `output_config.format` or a JSON-only system instruction,
/// `reasoning_effort` → `thinking` and `output_config.effort`, `service_tier`, `stream` and
/// `stream_options`, top-level `cache_control`, and the 4-breakpoint cache limit; then, with
/// `options.caching`, automatic cache breakpoints (`PlaceCacheBreakpoints()`). OpenAI's
/// `prompt_cache_key` and `prompt_cache_retention` have no Anthropic equivalent and are ignored
/// (docs/prompt-caching.md). Parameters Anthropic cannot honour (`n`>1, `logprobs`, `logit_bias`,
/// `seed`, penalties, audio, …) are a 400 naming `param`, or dropped with `drop_params`;
/// default-valued ones count as absent.
///
/// Never throws: JSON type errors inside become 400s.
///
/// @par Errors
/// `kInvalidRequest` (400) with `param` set; `kModelNotFound` (404, code `model_not_found`).
[[nodiscard]] Result<AnthropicRequest> ToAnthropic(const nlohmann::json& request,
                                                   const TranslateOptions& options);

/// Lower-case hex SHA-256 of `value`; how `user`/`safety_identifier` reach `metadata.user_id`.
[[nodiscard]] std::string HashUserId(std::string_view value);

}  // namespace claudegate::translate
