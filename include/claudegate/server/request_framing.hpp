/// @file request_framing.hpp
/// Request-framing checks that RFC 9112 requires and Boost.Beast 1.81's parser does not make.
///
/// Beast already refuses Content-Length together with Transfer-Encoding, differing Content-Length
/// values, bad chunk sizes, bare LF, NUL and CR in fields. It accepts, and these helpers refuse:
/// * a Transfer-Encoding whose final coding is not `chunked` (`identity`, `gzip`,
///   `chunked, identity`): Beast then reads no body, so the body would be parsed as the next
///   request — request smuggling (RFC 9112 §6.3 item 4: 400 and close);
/// * any other transfer coding stacked on `chunked` (`gzip, chunked`): we implement none;
/// * Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: framing is faulty);
/// * more than one Host field (RFC 9112 §3.2);
/// * obsolete line folding (RFC 9112 §5.2 allows rejecting it; Beast silently unfolds it, which a
///   front proxy may not).
///
/// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "claudegate/net.hpp"

namespace claudegate::server {

/// Why `header` (as parsed by Beast) must be refused with 400 and the connection closed, or
/// nullopt when its framing is acceptable. The reason is safe to show to the client.
[[nodiscard]] std::optional<std::string> FramingViolation(const http::request_header<>& header);

/// True when the raw, not yet parsed bytes of a request header contain an obs-fold: a line inside
/// the header block that begins with a space or a tab. `raw` starts at the start line or, once
/// Beast has consumed that, at the first field line (or the empty line ending the header); it may
/// be incomplete or be followed by the body or the next request, which are not looked at.
[[nodiscard]] bool HasObsFold(std::string_view raw);

}  // namespace claudegate::server
