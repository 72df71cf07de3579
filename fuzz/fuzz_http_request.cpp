// Fuzzes the downstream HTTP request path: Beast's request_parser driven the way
// src/server/session.cpp drives it (header limit first, body limit unset until the header is in,
// Content-Length checked against max_body_bytes, then the body under its limit, then the next
// pipelined request from the same buffer), over beast::test::stream with a fuzzed read size, and
// each parsed request through the auth key extraction (middleware::PresentedKey) and check.
//
// The real session (RunSession) takes a concrete TcpStream with timers, so it is exercised by the
// integration tests instead; this target covers the parsing and auth it relies on.
//
// Input: byte 0 picks limits (bit 0: tiny header limit, bit 1: tiny body limit) and the read size
// (bits 2-7); the rest is what the client sends. Checks: no crash/UB/exception, the 413/431 limits
// hold, and the presented key is a view into the Authorization or x-api-key value with no CR/LF.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/beast/_experimental/test/stream.hpp>

#include "claudegate/config/config.hpp"
#include "claudegate/middleware/auth.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/request_context.hpp"

namespace {

namespace cg = claudegate;
using cg::beast::error_code;
namespace http = cg::http;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

bool Within(std::string_view inner, std::string_view outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static const cg::middleware::AuthMiddleware kAuth("sk-fuzz-master-key-0123456789abcdef");
  const std::uint8_t flags = data[0];
  cg::config::Limits limits;
  if ((flags & 1U) != 0) {
    limits.max_header_bytes = 200;
  }
  if ((flags & 2U) != 0) {
    limits.max_body_bytes = 16;
  }

  cg::net::io_context ioc;
  cg::beast::test::stream stream(
      ioc, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  stream.read_size(1 + (flags >> 2U) * 7U);
  stream.close_remote();  // The client's bytes, then EOF: a sync read must not wait for more.
  cg::beast::flat_buffer buffer;

  for (int i = 0; i < 32; ++i) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(boost::none);
    error_code ec;
    http::read_header(stream, buffer, parser, ec);
    if (ec) {
      break;  // 431 / 400 / close: the session answers and ends the connection.
    }
    if (parser.content_length() && *parser.content_length() > limits.max_body_bytes) {
      break;  // 413 before reading the body.
    }
    parser.body_limit(limits.max_body_bytes);
    if (!parser.is_done()) {
      http::read(stream, buffer, parser, ec);
      if (ec) {
        break;
      }
    }
    cg::server::Request request = parser.release();
    Check(request.body().size() <= limits.max_body_bytes, "body within max_body_bytes");

    const std::string_view key = cg::middleware::PresentedKey(request);
    if (!key.empty()) {
      Check(Within(key, request[http::field::authorization]) || Within(key, request["x-api-key"]),
            "presented key comes from Authorization or x-api-key");
      Check(key.find_first_of("\r\n") == std::string_view::npos, "no CR/LF in the key");
      Check(!kAuth.Accepts(key) || key == "sk-fuzz-master-key-0123456789abcdef",
            "only the master key is accepted");
    }
    const std::string_view target = request.target();
    (void)cg::server::FlavorForPath(target.substr(0, target.find('?')));
    (void)cg::middleware::IsPublicPath(target);
    if (!request.keep_alive()) {
      break;
    }
  }
  return 0;
}
