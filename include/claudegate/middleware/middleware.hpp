/// @file middleware.hpp
/// The middleware "onion" (Drogon's coroutine model): each step may answer locally or pass the
/// request on with `co_await next(ctx)`, and sees the `server::Outcome` afterwards either way.
///
/// The `Pipeline` is an immutable ordered list built once at start-up (see `DefaultPipeline()`);
/// it is shared by every connection and thread, so middleware must be stateless or synchronise
/// their own state.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/reply.hpp"
#include "claudegate/server/request_context.hpp"

namespace claudegate::middleware {

class Pipeline;

/// The rest of the chain after the current middleware.
class Next {
 public:
  Next(const Pipeline& pipeline, std::size_t index) : pipeline_(&pipeline), index_(index) {}
  /// Runs the remaining middleware and the terminal handler.
  Awaitable<server::Outcome> operator()(server::RequestContext& ctx) const;

 private:
  const Pipeline* pipeline_;
  std::size_t index_;
};

/// One step of the chain.
class Middleware {
 public:
  virtual ~Middleware() = default;
  /// Handles `ctx`, calling `next(ctx)` to continue or answering locally to short-circuit.
  virtual Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const = 0;
};

/// An immutable ordered chain; the last element is the terminal step (the router).
class Pipeline {
 public:
  explicit Pipeline(std::vector<std::unique_ptr<Middleware>> steps) : steps_(std::move(steps)) {}
  /// Runs the whole chain for `ctx`. A coroutine, not a forwarding call: awaitables start lazily,
  /// so the `Next` must live in this frame rather than in a temporary.
  Awaitable<server::Outcome> Run(server::RequestContext& ctx) const {
    if (ctx.request.method() == http::verb::head) {
      // Every answer to HEAD, refusals included, is header-only (RFC 9110 §9.3.2); a body would
      // be read as the start of the next response.
      ctx.sink.OmitBody();
    }
    const Next first(*this, 0);
    co_return co_await first(ctx);
  }

 private:
  friend class Next;
  std::vector<std::unique_ptr<Middleware>> steps_;
};

}  // namespace claudegate::middleware
