// MessageChannel over a Beast WebSocket on the session's own stream. Private to the session
// implementation (session_sink.hpp creates it when a route accepts an opening handshake).
#pragma once

#include <string>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "claudegate/config/config.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/response_sink.hpp"
#include "claudegate/server/websocket.hpp"

namespace claudegate::server {

namespace websocket = beast::websocket;

/// A WebSocket over `Stream` (TcpStream or ssl_stream<TcpStream>), borrowed from the session.
template <typename Stream>
class SessionWebSocket final : public MessageChannel {
 public:
  explicit SessionWebSocket(Stream& stream) : ws_(stream) {}

  // Writes the 101 with the `Server` header and `headers` (x-request-id…), after setting the
  // limits: a message may be as large as a request body; a peer silent for the idle timeout is
  // pinged, and dropped if it stays silent as long again (Beast's keep-alive pings), so an agent
  // thinking between turns keeps its socket while a vanished one is noticed.
  Awaitable<error_code> Accept(const http::request<http::string_body>& request,
                               const config::Limits& limits, std::string_view server_header,
                               const HeaderList& headers) {
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket keeps its own timers
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = limits.write_timeout;
    timeouts.idle_timeout = limits.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [server = std::string(server_header), headers](websocket::response_type& response) {
          response.set(http::field::server, server);
          for (const auto& [name, value] : headers) {
            response.set(name, value);
          }
        }));
    ws_.read_message_max(limits.max_body_bytes);
    auto [ec] = co_await ws_.async_accept(request, Token{});
    co_return ec;
  }

  Awaitable<error_code> Read(std::string& out) override {
    buffer_.clear();
    auto [ec, n] = co_await ws_.async_read(buffer_, Token{});
    if (!ec) {
      out = beast::buffers_to_string(buffer_.data());
    }
    buffer_.clear();
    buffer_.shrink_to_fit();  // an idle socket holds no message-sized buffer between turns
    co_return ec;
  }

  Awaitable<error_code> Write(std::string_view text) override {
    ws_.text(true);
    auto [ec, n] = co_await ws_.async_write(net::const_buffer(text.data(), text.size()), Token{});
    co_return ec;
  }

  Awaitable<error_code> Close(std::uint16_t code, std::string_view reason) override {
    // A close reason is at most 123 bytes (RFC 6455 §5.5: control frames carry 125).
    const websocket::close_reason why(static_cast<websocket::close_code>(code),
                                      reason.substr(0, websocket::reason_string::static_capacity));
    auto [ec] = co_await ws_.async_close(why, Token{});
    co_return ec;
  }

 private:
  websocket::stream<Stream&> ws_;
  beast::flat_buffer buffer_;
};

}  // namespace claudegate::server
