/// @file response_sink.hpp
/// Where a handler writes its response: whole, or as a chunked stream (SSE).
///
/// The session implements it over its connection; tests use a recording implementation. Every
/// method must be awaited on the connection's strand and not concurrently with another write.
/// Writes complete when the bytes are handed to the socket, so a slow client slows the writer
/// (backpressure). A write error means the client is gone: the handler should stop and return.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "claudegate/net.hpp"
#include "claudegate/server/websocket.hpp"

namespace claudegate::server {

/// Response headers as name/value pairs, in order.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// The response side of one request.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;

  /// A header added to the response this sink writes (e.g. `x-request-id`). Call before writing.
  void AddHeader(std::string name, std::string value) {
    common_headers_.emplace_back(std::move(name), std::move(value));
  }

  /// Writes a complete response. `extra` headers follow the common ones.
  virtual Awaitable<error_code> Send(unsigned status, std::string_view content_type,
                                     std::string body, const HeaderList& extra = {}) = 0;

  /// Starts a chunked response (status + headers); follow with `WriteChunk` and `Finish`.
  virtual Awaitable<error_code> WriteHead(unsigned status, std::string_view content_type,
                                          const HeaderList& extra = {}) = 0;
  /// Writes one chunk of a response started with `WriteHead`. Empty data is a no-op.
  virtual Awaitable<error_code> WriteChunk(std::string_view data) = 0;
  /// Ends a chunked response.
  virtual Awaitable<error_code> Finish() = 0;

  /// Answers the WebSocket opening handshake `request` with `101 Switching Protocols` (RFC 6455
  /// §4.2.2) and switches the connection to WebSocket; `websocket()` then returns its channel. A
  /// handshake Beast finds invalid is answered `400` by it and fails here. Sinks that cannot
  /// upgrade (a test's, an upgraded connection's own) fail with `operation_not_supported`.
  virtual Awaitable<error_code> AcceptWebSocket(const http::request<http::string_body>& request) {
    (void)request;
    co_return net::error::operation_not_supported;
  }
  /// The channel after a successful `AcceptWebSocket`, else null.
  [[nodiscard]] virtual MessageChannel* websocket() { return nullptr; }

  /// The response to a HEAD request: status and header fields as for GET, no content (RFC 9110
  /// §9.3.2). Writes after this send the header only; `WriteChunk` and `Finish` send nothing.
  void OmitBody() { omit_body_ = true; }
  [[nodiscard]] bool omits_body() const { return omit_body_; }
  /// Asks the session to close the connection after this response.
  void CloseAfterResponse() { close_after_ = true; }
  [[nodiscard]] bool close_after() const { return close_after_; }

  [[nodiscard]] bool head_written() const { return status_ != 0; }
  [[nodiscard]] unsigned status() const { return status_; }
  [[nodiscard]] std::size_t bytes_written() const { return bytes_written_; }
  [[nodiscard]] const HeaderList& common_headers() const { return common_headers_; }

 protected:
  void RecordHead(unsigned status) { status_ = status; }
  void RecordBytes(std::size_t n) { bytes_written_ += n; }

 private:
  HeaderList common_headers_;
  unsigned status_ = 0;
  std::size_t bytes_written_ = 0;
  bool close_after_ = false;
  bool omit_body_ = false;
};

}  // namespace claudegate::server
