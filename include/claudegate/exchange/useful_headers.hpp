/// @file useful_headers.hpp
/// Which upstream response headers a client should see, shared by the routes that relay errors
/// and rate-limit state (retry-after, request-id, anthropic-ratelimit-*).
#pragma once

#include "claudegate/net.hpp"
#include "claudegate/server/response_sink.hpp"

namespace claudegate::exchange {

/// The upstream headers worth passing on: `retry-after`, `request-id`, and every
/// `anthropic-ratelimit-*` header. Never cookies, credentials or hop-by-hop headers.
[[nodiscard]] server::HeaderList UsefulUpstreamHeaders(const http::fields& upstream);

/// The useful headers plus what a relayed stream needs: `cache-control: no-cache`, and
/// `x-accel-buffering: no` so that nginx in front does not buffer it.
[[nodiscard]] server::HeaderList StreamHeaders(const http::fields& upstream);

}  // namespace claudegate::exchange
