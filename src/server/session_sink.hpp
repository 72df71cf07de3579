// ResponseSink over a Beast stream. Private to the session implementation.
#pragma once

#include <optional>
#include <string>

#include "claudegate/net.hpp"
#include "claudegate/server/response_sink.hpp"

#include "session_websocket.hpp"

namespace claudegate::server {

inline constexpr std::string_view kServerHeader = "claudegate/" CLAUDEGATE_VERSION;

/// Writes one response on `stream` (TcpStream or ssl_stream<TcpStream>).
template <typename Stream>
class SessionSink final : public ResponseSink {
 public:
  SessionSink(Stream& stream, unsigned version, bool keep_alive, config::Milliseconds timeout,
              const config::Limits* websocket_limits = nullptr)
      : stream_(stream),
        version_(version),
        keep_alive_(keep_alive),
        timeout_(timeout),
        websocket_limits_(websocket_limits) {}

  // The WebSocket lives in the sink, which lives until the session has served the upgraded
  // connection (serve_requests_impl.hpp). Only a sink given the listener's limits can upgrade.
  Awaitable<error_code> AcceptWebSocket(const http::request<http::string_body>& request) override {
    if (websocket_limits_ == nullptr || websocket_ || head_written()) {
      co_return net::error::operation_not_supported;
    }
    websocket_.emplace(stream_);
    const error_code ec =
        co_await websocket_->Accept(request, *websocket_limits_, kServerHeader, common_headers());
    if (ec) {
      // Beast answered the handshake itself: 426 naming version 13 for another WebSocket
      // version, 400 for anything else it found wrong (RFC 6455 §4.2.2).
      RecordHead(ec == beast::websocket::error::bad_sec_version ? 426 : 400);
      websocket_.reset();
      failed_ = true;
      co_return ec;
    }
    RecordHead(101);
    co_return ec;
  }

  MessageChannel* websocket() override { return websocket_ ? &*websocket_ : nullptr; }

  Awaitable<error_code> Send(unsigned status, std::string_view content_type, std::string body,
                             const HeaderList& extra) override {
    http::response<http::string_body> response{static_cast<http::status>(status), version_};
    ApplyHeaders(response, content_type, extra);
    response.body() = std::move(body);
    response.prepare_payload();
    RecordHead(status);
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    if (omits_body()) {
      // HEAD: the Content-Length a GET would have had, then nothing (RFC 9110 §9.3.2).
      http::response_serializer<http::string_body> serializer{response};
      auto [ec, n] = co_await http::async_write_header(stream_, serializer, Token{});
      finished_ = !ec;
      co_return ec;
    }
    auto [ec, n] = co_await http::async_write(stream_, response, Token{});
    RecordBytes(response.body().size());
    finished_ = !ec;
    co_return ec;
  }

  Awaitable<error_code> WriteHead(unsigned status, std::string_view content_type,
                                  const HeaderList& extra) override {
    http::response<http::empty_body> response{static_cast<http::status>(status), version_};
    ApplyHeaders(response, content_type, extra);
    response.chunked(true);
    RecordHead(status);
    http::response_serializer<http::empty_body> serializer{response};
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    auto [ec, n] = co_await http::async_write_header(stream_, serializer, Token{});
    failed_ = failed_ || static_cast<bool>(ec);
    co_return ec;
  }

  Awaitable<error_code> WriteChunk(std::string_view data) override {
    if (data.empty() || (omits_body() && !failed_)) {
      co_return error_code{};
    }
    if (failed_) {
      co_return net::error::broken_pipe;
    }
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    auto [ec, n] = co_await net::async_write(
        stream_, http::make_chunk(net::const_buffer(data.data(), data.size())), Token{});
    failed_ = failed_ || static_cast<bool>(ec);
    if (!ec) {
      RecordBytes(data.size());
    }
    co_return ec;
  }

  Awaitable<error_code> Finish() override {
    if (failed_) {
      co_return net::error::broken_pipe;
    }
    if (omits_body()) {
      finished_ = true;
      co_return error_code{};
    }
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    auto [ec, n] = co_await net::async_write(stream_, http::make_chunk_last(), Token{});
    failed_ = failed_ || static_cast<bool>(ec);
    finished_ = !ec;
    co_return ec;
  }

  /// True when a complete response went out without error.
  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] bool keep_alive() const { return keep_alive_ && !close_after(); }

 private:
  template <typename Body>
  void ApplyHeaders(http::response<Body>& response, std::string_view content_type,
                    const HeaderList& extra) {
    response.set(http::field::server, kServerHeader);
    if (!content_type.empty()) {
      response.set(http::field::content_type, content_type);
    }
    for (const auto& [name, value] : common_headers()) {
      response.set(name, value);
    }
    for (const auto& [name, value] : extra) {
      response.set(name, value);
    }
    response.keep_alive(keep_alive());
  }

  Stream& stream_;
  unsigned version_;
  bool keep_alive_;
  config::Milliseconds timeout_;
  const config::Limits* websocket_limits_;
  std::optional<SessionWebSocket<Stream>> websocket_;
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace claudegate::server
