/// @file reply.hpp
/// How a request ends, and the two ways to answer one locally. With `RequestContext`
/// (request_context.hpp) and `ResponseSink` (response_sink.hpp) this is the vocabulary every
/// middleware and route handler speaks.
#pragma once

#include <cstddef>
#include <string>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/request_context.hpp"

namespace claudegate::server {

/// What happened to a request, as seen on the way back out.
struct Outcome {
  unsigned status = 0;
  std::size_t bytes = 0;
};

/// Answers locally with `error` in the request's API shape (`ctx.flavor`) and records `details`.
Awaitable<Outcome> LocalReply(RequestContext& ctx, const Error& error, std::string details,
                              const HeaderList& extra = {});

/// Sends a JSON body with `status`.
Awaitable<Outcome> JsonReply(RequestContext& ctx, unsigned status, std::string body,
                             const HeaderList& extra = {});

/// Sends a whole `text/event-stream` answer (200) whose events are all known already.
Awaitable<Outcome> EventStreamReply(RequestContext& ctx, std::string events);

}  // namespace claudegate::server
