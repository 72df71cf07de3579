/// @file query_string.hpp
/// One parameter of a request target's query string (`/key/info?key=…`, `/usage/report?…`),
/// percent-decoded, as Boost.URL parses origin-form targets (RFC 9112 §3.2.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace claudegate::server {

/// The first `name` parameter's value, or nullopt when absent or the target does not parse.
[[nodiscard]] std::optional<std::string> QueryParameter(std::string_view target,
                                                        std::string_view name);

}  // namespace claudegate::server
