#include "claudegate/routes/upstream_errors.hpp"

namespace claudegate::routes {

server::HeaderList UsefulUpstreamHeaders(const http::fields& upstream) {
  server::HeaderList headers;
  for (const auto& field : upstream) {
    const std::string_view name = field.name_string();
    const bool useful = beast::iequals(name, "retry-after") ||
                        beast::iequals(name, "request-id") ||
                        (name.size() > 20 && beast::iequals(name.substr(0, 20), "anthropic-ratelimit-"));
    if (useful) {
      headers.emplace_back(std::string(name), std::string(field.value()));
    }
  }
  return headers;
}

}  // namespace claudegate::routes
