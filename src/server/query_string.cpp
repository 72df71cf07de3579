#include "claudegate/server/query_string.hpp"

#include <boost/url/parse.hpp>

namespace claudegate::server {

std::optional<std::string> QueryParameter(std::string_view target, std::string_view name) {
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return std::nullopt;
  }
  const auto params = url->params();
  const auto found = params.find(name);
  if (found == params.end()) {
    return std::nullopt;
  }
  return std::string((*found).value);
}

}  // namespace claudegate::server
