/// @file config.hpp
/// The effective configuration of one claudegate process: defaults, then the YAML file, then the
/// environment, then command-line flags (later wins).
///
/// Built once at start-up by `LoadConfig()` and shared read-only as `shared_ptr<const Config>`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/config/prompt_caching.hpp"
#include "claudegate/config/retries.hpp"
#include "claudegate/config/store.hpp"

namespace claudegate::config {

using Seconds = std::chrono::seconds;
using Milliseconds = std::chrono::milliseconds;

/// Listener limits. Each one answers with its own status and JSON error when exceeded.
struct Limits {
  std::size_t max_body_bytes = 32U * 1024U * 1024U;  ///< 413 beyond this.
  std::size_t max_header_bytes = 16U * 1024U;        ///< 431 beyond this (request line + headers).
  Milliseconds header_timeout{10'000};               ///< Slowloris guard: whole header block.
  Milliseconds body_timeout{60'000};                 ///< Time to receive a declared body.
  Milliseconds idle_timeout{60'000};                 ///< Keep-alive: time allowed between requests.
  Milliseconds write_timeout{60'000};                ///< A client that stops reading is dropped.
  std::size_t max_connections = 4096;                ///< Further connections get a 503 and close.
  /// Connections one client address may hold (trusted proxies exempt); 0 = max_connections / 4,
  /// at least 256.
  std::size_t max_connections_per_client = 0;
  /// Request body bytes held across all connections at once; a body that does not fit gets 503.
  /// Never below max_body_bytes.
  std::size_t max_body_bytes_in_flight = 256U * 1024U * 1024U;
  Milliseconds shutdown_grace{30'000};  ///< SIGTERM: time given to in-flight work.
};

/// TLS for the listener; enabled when both files are set.
struct ListenerTls {
  std::string cert_file;
  std::string key_file;
  [[nodiscard]] bool Enabled() const { return !cert_file.empty() && !key_file.empty(); }
};

/// How claudegate talks to Anthropic.
struct Upstream {
  std::string base_url = "https://api.anthropic.com";
  std::string anthropic_version = "2023-06-01";  ///< Sent on the OpenAI route.
  std::vector<std::string> extra_betas;          ///< Added to every upstream request.
  Milliseconds connect_timeout{10'000};          ///< TCP connect.
  Milliseconds tls_timeout{10'000};              ///< TLS handshake.
  Milliseconds first_byte_timeout{600'000};      ///< Request sent → response headers.
  Milliseconds stream_idle_timeout{300'000};     ///< Longest silence between stream events.
  Milliseconds heartbeat_interval{15'000};       ///< SSE comment to the client during silences.
  /// Largest single upstream SSE event the translating routes buffer; a bigger one fails the
  /// stream (the /v1/messages relay forwards bytes without buffering events).
  std::size_t max_sse_event_bytes = 16U * 1024U * 1024U;
  /// Largest whole answer buffered for a non-streaming client (the JSON body, or the SSE bytes a
  /// streamed answer is assembled from); a bigger one fails the request with a 502.
  std::size_t max_response_bytes = 64U * 1024U * 1024U;
  /// Keep-alive pool bound: as many as the default `limits.max_connections`, so that every
  /// connection can keep its upstream connection warm; the daemon caps it at max_connections.
  std::size_t max_idle_connections = 4096;
  Milliseconds pool_idle_timeout{60'000};  ///< Pooled connections older than this are closed.
  std::string ssl_cert_file;               ///< CA bundle; empty = system store.
};

/// Where the Claude credential comes from (precedence in PRODUCT.md).
struct Credentials {
  std::string oauth_token;  ///< CLAUDE_CODE_OAUTH_TOKEN.
  std::string config_dir;   ///< CLAUDE_CONFIG_DIR, default ~/.claude.
  std::string api_key;      ///< ANTHROPIC_API_KEY.
  std::string oauth_token_url = "https://platform.claude.com/v1/oauth/token";
};

/// Logging.
struct Logging {
  std::string level = "info";  ///< debug, info, warning, error.
  bool json = false;           ///< JSON lines instead of text.
};

/// Translation defaults for the OpenAI route.
struct Translation {
  bool drop_params = false;  ///< Drop parameters Claude cannot honour instead of a 400.
  /// When the client sends no max_tokens (docs/anthropic-notes.md#max-tokens).
  int default_max_tokens = 32000;
};

/// The opt-in plan guard: refuse new requests instead of spending money or hammering a limit.
struct PlanGuard {
  bool enabled = false;        ///< Off by default.
  bool refuse_overage = true;  ///< Also refuse while requests draw on paid extra usage.
};

/// Guessing the master key: wrong keys per client before it is refused for a while.
struct AuthThrottle {
  std::size_t max_failures = 10;  ///< Per window; 0 turns the throttle off.
  Milliseconds window{60'000};    ///< Failures older than this are forgotten.
  Milliseconds block{300'000};    ///< Refusal (429 + Retry-After) once over the limit.
};

/// Everything one process needs; immutable once loaded.
struct Config {
  std::string master_key;  ///< Required, `sk-` prefix. Never printed unredacted.
  std::string host = "0.0.0.0";
  std::uint16_t port = 4000;
  unsigned threads = 0;  ///< 0 = one per hardware thread.
  Limits limits;
  ListenerTls tls;
  Upstream upstream;
  Credentials credentials;
  Logging logging;
  Translation translation;
  PromptCaching prompt_caching;  ///< Automatic cache_control breakpoints (docs/prompt-caching.md).
  PlanGuard plan_guard;
  AuthThrottle auth_throttle;
  Retries retries;  ///< Upstream retries and model fallbacks (docs/configuration.md).
  Store store;      ///< The embedded store: stored responses (docs/configuration.md).
  /// Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the client.
  std::vector<std::string> trusted_proxies;
  bool metrics_public = false;  ///< Serve /metrics without the master key.
  ModelCatalog models{ModelCatalog::DefaultAliases()};
  std::optional<std::string> config_file;  ///< The YAML file loaded, if any.
  std::vector<std::string> warnings;       ///< Non-fatal findings (unknown keys, short key, …).
};

}  // namespace claudegate::config
