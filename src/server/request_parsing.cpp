#include "request_parsing.hpp"

#include "claudegate/server/request_framing.hpp"

namespace claudegate::server {

error_code BodyBudgetExhausted() { return net::error::no_buffer_space; }

std::optional<Error> ParseFailure(const error_code& ec) {
  if (ec == http::error::header_limit) {
    return Error{
        ErrorKind::kHeadersTooLarge, "Request header fields too large.", {}, "headers_too_large"};
  }
  if (ec == http::error::body_limit) {
    return Error{ErrorKind::kPayloadTooLarge, "Request body too large.", {}, "request_too_large"};
  }
  if (ec == beast::error::timeout) {
    return Error{
        ErrorKind::kRequestTimeout, "Timed out reading the request.", {}, "request_timeout"};
  }
  if (ec == BodyBudgetExhausted()) {
    return Error{ErrorKind::kServiceUnavailable,
                 "Too many request bodies in flight; retry shortly.",
                 {},
                 "body_budget_exhausted"};
  }
  if (ec == http::error::end_of_stream || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == net::error::operation_aborted ||
      ec == net::error::bad_descriptor || ec == ssl::error::stream_truncated ||
      ec == http::error::partial_message) {
    return std::nullopt;
  }
  // Everything else is a protocol error: bad request line, bad header, bad chunk, smuggling
  // attempts such as both Content-Length and Transfer-Encoding.
  return Error{ErrorKind::kInvalidRequest,
               "Malformed HTTP request: " + ec.message() + ".",
               {},
               "bad_request"};
}

// Feeds what is buffered to the parser, header only, as http::async_read_header would, with two
// fixes:
// * Beast 1.81 applies header_limit to each put() call, not to the header as a whole, and consumes
//   complete field lines as they arrive, so a client sending its header a few KiB at a time was
//   never refused (unbounded fields in memory). The remaining budget is passed on each call;
//   `parsed` carries the bytes consumed so far across calls.
// * It looks at the raw bytes before Beast parses them: Beast unfolds obs-fold silently, and a
//   front proxy that does not might frame the request differently. Beast consumes a field line
//   only once it has seen that the next line does not continue it, so a fold is still in
//   `buffer` when we look.
// Returns need_more when the header is not complete yet. Synchronous, so a request that arrived
// whole with the first read costs no timed read (a parallel group of two coroutines, ~10k
// instructions per request; see docs/performance.md).
error_code ParseBufferedHeader(beast::flat_buffer& buffer,
                               http::request_parser<http::string_body>& parser,
                               std::size_t max_header_bytes, std::size_t& parsed, bool& obs_fold) {
  if (buffer.size() == 0) {
    return http::error::need_more;
  }
  const std::string_view raw(static_cast<const char*>(buffer.data().data()), buffer.size());
  if (HasObsFold(raw)) {
    obs_fold = true;
    return http::error::bad_field;
  }
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes - parsed));
  error_code ec;
  const std::size_t used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  parsed += used;
  if (ec == http::error::need_more && parsed >= max_header_bytes) {
    return http::error::header_limit;
  }
  return ec;
}

// Feeds a body that is already buffered (it usually arrives with the header) to an eager parser
// without an asynchronous read. Returns need_more when the parser wants bytes not yet here.
error_code ParseBufferedBody(http::request_parser<http::string_body>& parser,
                             beast::flat_buffer& buffer) {
  error_code ec;
  while (buffer.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec || used == 0) {
      break;
    }
  }
  if (!ec && !parser.is_done()) {
    ec = http::error::need_more;
  }
  return ec;
}

}  // namespace claudegate::server
