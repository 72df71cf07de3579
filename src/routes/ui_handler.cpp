#include "claudegate/routes/ui_handler.hpp"

#include "claudegate/server/reply.hpp"
#include "claudegate/ui/ui_assets.hpp"

namespace claudegate::routes {

server::HeaderList UiSecurityHeaders() {
  // No inline script or style, no eval, nothing from another origin: what the page needs is in
  // its own files (https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/CSP).
  return {{"content-security-policy",
           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
          {"x-content-type-options", "nosniff"},
          {"referrer-policy", "no-referrer"},
          {"x-frame-options", "DENY"},
          // Small files that change with the binary: revalidated, never stale after an upgrade.
          {"cache-control", "no-cache"}};
}

Awaitable<server::Outcome> UiHandler::Serve(server::RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  const ui::UiAsset* asset = ui::FindUiAsset(ctx.Path());
  if (asset == nullptr) {
    const Error missing(ErrorKind::kNotFound, "No such file under /ui.", {}, "not_found");
    co_return co_await server::LocalReply(ctx, missing, "ui_not_found");
  }
  const server::HeaderList headers = UiSecurityHeaders();
  co_await ctx.sink.Send(200, asset->content_type, std::string(asset->body), headers);
  co_return server::Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

}  // namespace claudegate::routes
