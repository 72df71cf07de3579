/// @file details.hpp
/// The `RequestContext::details` labels the routes and the exchange set: why a request was
/// answered the way it was. They appear in the access log (`details=…`, docs/metrics.md) and are
/// matched by people's log queries, so the strings never change; add a constant rather than a
/// literal at the call site.
#pragma once

#include <string>
#include <string_view>

namespace claudegate::details {

/// The request body nests deeper than the gateway parses (docs/security.md).
inline constexpr std::string_view kJsonTooDeep = "json_too_deep";
/// The request body is not JSON.
inline constexpr std::string_view kInvalidJson = "invalid_json";
/// The request is JSON but not a valid request of its API.
inline constexpr std::string_view kInvalidRequest = "invalid_request";
/// The model is neither a Claude model id nor a configured alias.
inline constexpr std::string_view kModelNotFound = "model_not_found";
/// Stored responses are turned off (`claudegate.store.enabled: false`) and the request needs one.
inline constexpr std::string_view kResponseNotStored = "response_not_stored";
/// `previous_response_id`, `item_reference` or `/v1/responses/{id}`: not stored, deleted or
/// expired.
inline constexpr std::string_view kStoredNotFound = "stored_not_found";
/// The response store failed (disk, corruption); the request needed it.
inline constexpr std::string_view kStoreUnavailable = "store_unavailable";
/// No answer from the Claude API: no credential, connection, TLS or first-byte failure.
inline constexpr std::string_view kUpstreamUnavailable = "upstream_unavailable";
/// The answer's body could not be read to its end (timeout, broken, over the size cap).
inline constexpr std::string_view kUpstreamFailed = "upstream_failed";
/// The answer arrived but could not be parsed or translated.
inline constexpr std::string_view kUpstreamUnparseable = "upstream_unparseable";
/// A streamed answer ended without its end (no stop reason) for a non-streaming client.
inline constexpr std::string_view kUpstreamIncomplete = "upstream_incomplete";
/// A stream already answered 200 ended with an error (upstream error event, timeout, cut).
inline constexpr std::string_view kStreamError = "stream_error";

/// The Claude API answered with a status other than 200: `upstream_<status>`.
[[nodiscard]] inline std::string UpstreamStatus(unsigned status) {
  return "upstream_" + std::to_string(status);
}

}  // namespace claudegate::details
