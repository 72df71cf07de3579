#include "claudegate/exchange/useful_headers.hpp"

namespace claudegate::exchange {

server::HeaderList UsefulUpstreamHeaders(const http::fields& upstream) {
  server::HeaderList headers;
  for (const auto& field : upstream) {
    const std::string_view name = field.name_string();
    const bool useful =
        beast::iequals(name, "retry-after") || beast::iequals(name, "request-id") ||
        (name.size() > 20 && beast::iequals(name.substr(0, 20), "anthropic-ratelimit-"));
    if (useful) {
      headers.emplace_back(std::string(name), std::string(field.value()));
    }
  }
  return headers;
}

server::HeaderList StreamHeaders(const http::fields& upstream) {
  server::HeaderList headers = UsefulUpstreamHeaders(upstream);
  headers.emplace_back("cache-control", "no-cache");
  headers.emplace_back("x-accel-buffering", "no");
  return headers;
}

}  // namespace claudegate::exchange
