/// @file router.hpp
/// The terminal step: matches method and path to a route handler. Unknown paths get 404; a known
/// path with the wrong method gets 405 with `Allow`.
///
/// Built once at start-up; immutable and safe on any thread afterwards.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

/// A route handler: answers the request through `ctx.sink`.
using Handler = std::function<Awaitable<server::Outcome>(server::RequestContext& ctx)>;

/// Method + path → handler.
class Router final : public Middleware {
 public:
  /// Exact path match.
  void Add(http::verb method, std::string path, Handler handler);
  /// Any path starting with `prefix` and having at least one more character (e.g. `/v1/models/`
  /// for `/v1/models/{id}`); `ctx.route` is set to `pattern`.
  void AddPrefix(http::verb method, std::string prefix, std::string pattern, Handler handler);

  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next next) const override;

 private:
  struct Route {
    http::verb method;
    std::string path;  ///< Exact path, or prefix when `is_prefix`.
    std::string pattern;
    bool is_prefix;
    Handler handler;
  };
  [[nodiscard]] bool Matches(const Route& route, std::string_view path) const;
  std::vector<Route> routes_;
};

}  // namespace claudegate::middleware
