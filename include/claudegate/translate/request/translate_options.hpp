/// @file translate_options.hpp
/// Settings for request translation, and the context object the request-translation helpers
/// (`content`, `messages`, `tools`) share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/config/prompt_caching.hpp"
#include "claudegate/error.hpp"
#include "claudegate/translate/request/model_traits.hpp"

namespace claudegate::translate {

/// How `ToAnthropic()` translates. The pointed-to objects are borrowed and must outlive the call.
struct TranslateOptions {
  /// Alias table; nullptr resolves only `claude-…` ids.
  const config::ModelCatalog* models = nullptr;
  /// LiteLLM's `drop_params`: silently drop unsupported parameters instead of answering 400.
  bool drop_params = false;
  /// `max_tokens` when the client sends none (clamped to the model's maximum),
  /// docs/anthropic-notes.md#max-tokens.
  int default_max_tokens = 32000;
  /// The `anthropic-version` the upstream call will send. Any value other than `2023-06-01`
  /// (i.e. `2026-10-21` and later) never gets `temperature`, `top_p` or `top_k`
  /// (docs/anthropic-notes.md#headers-and-api-versions).
  std::string_view anthropic_version = "2023-06-01";
  /// Per-model traits to use instead of `DefaultModelTraits(upstream id)`; nullptr for built-in.
  const ModelTraits* traits = nullptr;
  /// Ask upstream for a stream even when the client did not (docs/anthropic-notes.md#max-tokens,
  /// #non-streaming-clients): the large default `max_tokens` makes long non-streamed calls time
  /// out. Non-streaming clients are then served through `MessageAccumulator` + `ToOpenAi()`.
  bool always_stream_upstream = true;
  /// Automatic prompt caching (`PlaceCacheBreakpoints()`, docs/prompt-caching.md); nullptr adds
  /// no breakpoints. The handlers pass `Config::prompt_caching`, whose default is `auto`.
  const config::PromptCaching* caching = nullptr;
};

/// Shared by the request-translation helpers; internal to `claudegate::translate`.
struct RequestContext {
  const TranslateOptions& options;
  const ModelTraits& traits;
  std::vector<std::string>& warnings;  ///< Things dropped or changed; for logs and a header.
};

/// A 400 `invalid_request_error` about `param`.
[[nodiscard]] inline Error InvalidParam(std::string message, std::string param) {
  return Error{ErrorKind::kInvalidRequest, std::move(message), std::move(param), ""};
}

}  // namespace claudegate::translate
