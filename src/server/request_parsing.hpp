/// @file request_parsing.hpp
/// The synchronous steps of reading a request on a session (private to src/server/): what is
/// already buffered fed to Beast's parser, header then body, and the reply a parse failure
/// deserves. No I/O here; connection_io.hpp does the reads.
#pragma once

#include <cstddef>
#include <optional>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"

namespace claudegate::server {

// Reads of a header, and of the keep-alive wait, as small as a request usually is.
inline constexpr std::size_t kReadChunk = 4096;
// Body reads, as large as Beast's own http::async_read makes them.
inline constexpr std::size_t kBodyReadChunk = 64U * 1024U;

/// The sentinel `ReadBody` returns when the body budget is exhausted (a 503, see ParseFailure).
[[nodiscard]] error_code BodyBudgetExhausted();

/// The error a request that failed to parse gets, or nullopt when the connection should simply
/// close without a reply (client went away, idle timeout).
[[nodiscard]] std::optional<Error> ParseFailure(const error_code& ec);

/// Feeds what is buffered to the parser, header only, as http::async_read_header would, with two
/// fixes (see request_parsing.cpp): the header limit applies to the header as a whole, and an
/// obs-fold is refused (`obs_fold` set). `parsed` carries the bytes consumed across calls.
/// Returns need_more when the header is not complete yet.
error_code ParseBufferedHeader(beast::flat_buffer& buffer,
                               http::request_parser<http::string_body>& parser,
                               std::size_t max_header_bytes, std::size_t& parsed, bool& obs_fold);

/// Feeds a body that is already buffered (it usually arrives with the header) to an eager parser
/// without an asynchronous read. Returns need_more when the parser wants bytes not yet here.
error_code ParseBufferedBody(http::request_parser<http::string_body>& parser,
                             beast::flat_buffer& buffer);

}  // namespace claudegate::server
