/// @file ui_handler.hpp
/// `GET /ui` and its files (docs/ui.md): the dashboard embedded in the binary (ui/ui_assets.hpp).
/// The files are public and hold no data; the page asks for the master key and reads everything
/// it shows from the JSON routes with it (`/health`, `/usage/report`, `/key/list`). Served with a
/// strict Content-Security-Policy: the page's own script and style only, connections only to
/// this origin, no framing.
#pragma once

#include "claudegate/middleware/middleware.hpp"

namespace claudegate::routes {

/// The headers every /ui file is served with (the CSP among them).
[[nodiscard]] server::HeaderList UiSecurityHeaders();

class UiHandler {
 public:
  Awaitable<server::Outcome> Serve(server::RequestContext& ctx) const;
};

}  // namespace claudegate::routes
