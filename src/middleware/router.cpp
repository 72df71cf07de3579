#include "claudegate/middleware/router.hpp"

namespace claudegate::middleware {

void Router::Add(http::verb method, std::string path, Handler handler) {
  std::string pattern = path;
  routes_.push_back({method, std::move(path), std::move(pattern), false, std::move(handler)});
}

void Router::AddPrefix(http::verb method, std::string prefix, std::string pattern,
                       Handler handler) {
  routes_.push_back({method, std::move(prefix), std::move(pattern), true, std::move(handler)});
}

namespace {

void AddAllowed(std::string& allow, std::string_view method) {
  // Whole names only: "GET" must not be taken for a part of another name.
  const std::string padded = ", " + allow + ",";
  if (padded.find(", " + std::string(method) + ",") == std::string::npos) {
    allow += allow.empty() ? "" : ", ";
    allow += method;
  }
}

}  // namespace

bool Router::Matches(const Route& route, std::string_view path) const {
  if (!route.is_prefix) {
    return path == route.path;
  }
  return path.size() > route.path.size() && path.starts_with(route.path);
}

Awaitable<server::Outcome> Router::Handle(server::RequestContext& ctx, Next /*next*/) const {
  const std::string_view path = ctx.Path();
  std::string allow;
  for (const auto& route : routes_) {
    if (!Matches(route, path)) {
      continue;
    }
    // HEAD is GET without content (RFC 9110 §9.3.2): every GET route answers it, and the
    // pipeline made the sink header-only.
    const bool head_of_get =
        ctx.request.method() == http::verb::head && route.method == http::verb::get;
    if (route.method == ctx.request.method() || head_of_get) {
      ctx.route = route.pattern;
      co_return co_await route.handler(ctx);
    }
    AddAllowed(allow, http::to_string(route.method));
    if (route.method == http::verb::get) {
      AddAllowed(allow, http::to_string(http::verb::head));
    }
  }
  if (!allow.empty()) {
    // Built outside the co_await expression: GCC 12 rejects braced pair lists in coroutines.
    server::HeaderList allow_header;
    allow_header.emplace_back("allow", allow);
    co_return co_await server::LocalReply(
        ctx,
        Error{ErrorKind::kMethodNotAllowed,
              "Method " + std::string(ctx.request.method_string()) + " is not allowed on " +
                  std::string(path) + "; use " + allow + ".",
              {},
              "method_not_allowed"},
        "method_not_allowed", allow_header);
  }
  co_return co_await server::LocalReply(
      ctx,
      Error{
          ErrorKind::kNotFound, "Unknown route " + std::string(path) + ".", {}, "route_not_found"},
      "route_not_found");
}

}  // namespace claudegate::middleware
