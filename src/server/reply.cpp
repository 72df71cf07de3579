#include "claudegate/server/reply.hpp"

namespace claudegate::server {

Awaitable<Outcome> JsonReply(RequestContext& ctx, unsigned status, std::string body,
                             const HeaderList& extra) {
  co_await ctx.sink.Send(status, "application/json", std::move(body), extra);
  co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

Awaitable<Outcome> EventStreamReply(RequestContext& ctx, std::string events) {
  ctx.usage.stream = true;
  const HeaderList no_headers;  // named: see the GCC 12 note in docs/architecture.md
  if (co_await ctx.sink.WriteHead(200, "text/event-stream", no_headers)) {
    co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
  }
  co_await ctx.sink.WriteChunk(events);
  co_await ctx.sink.Finish();
  co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

Awaitable<Outcome> LocalReply(RequestContext& ctx, const Error& error, std::string details,
                              const HeaderList& extra) {
  ctx.details = std::move(details);
  if (ctx.sink.head_written()) {
    // Too late for a status line; the handler owns the stream's error reporting.
    co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
  }
  if (error.kind == ErrorKind::kCredentialUnavailable) {
    // The SDKs (and Claude Code) retry any 503 unless told not to; nothing changes for this one
    // until someone logs in on the host, so say so instead of letting clients spin.
    HeaderList headers = extra;
    headers.emplace_back("x-should-retry", "false");
    co_return co_await JsonReply(ctx, 503, ErrorBody(ctx.flavor, error), headers);
  }
  co_return co_await JsonReply(ctx, ErrorStatus(error.kind), ErrorBody(ctx.flavor, error), extra);
}

}  // namespace claudegate::server
