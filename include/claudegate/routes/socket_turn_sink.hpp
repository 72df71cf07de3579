/// @file socket_turn_sink.hpp
/// The `ResponseSink` of a request carried by a Responses WebSocket (responses_socket.hpp): what
/// the route handler writes as HTTP goes out as WebSocket text messages.
/// - a streamed answer (`text/event-stream`): each event's `data` is one message; comments (the
///   `: keep-alive` heartbeats) are dropped, the socket has its own pings;
/// - an error answer (status ≥ 400, OpenAI's `{"error":{…}}` body): one `error` message with the
///   status, the error object and the useful response headers (`retry-after`…), the shape OpenAI
///   and Codex use (`{"type":"error","status":429,"error":{…},"headers":{…}}`);
/// - any other whole body: one message as it is.
#pragma once

#include <string>
#include <string_view>

#include "claudegate/net.hpp"
#include "claudegate/server/response_sink.hpp"
#include "claudegate/server/websocket.hpp"
#include "claudegate/sse/decoder.hpp"

namespace claudegate::routes {

class SocketTurnSink final : public server::ResponseSink {
 public:
  explicit SocketTurnSink(server::MessageChannel& channel) : channel_(channel) {}

  Awaitable<error_code> Send(unsigned status, std::string_view content_type, std::string body,
                             const server::HeaderList& extra) override;
  Awaitable<error_code> WriteHead(unsigned status, std::string_view content_type,
                                  const server::HeaderList& extra) override;
  Awaitable<error_code> WriteChunk(std::string_view data) override;
  Awaitable<error_code> Finish() override;

  /// True when a complete answer went out.
  [[nodiscard]] bool finished() const { return finished_; }

 private:
  server::MessageChannel& channel_;
  sse::Decoder events_;
  bool failed_ = false;
  bool finished_ = false;
};

/// The `error` message for an HTTP error answer: `body` is OpenAI's `{"error":{…}}` (anything else
/// becomes the message of a `server_error`); `headers` go in as an object when there are any.
[[nodiscard]] std::string SocketErrorMessage(unsigned status, std::string_view body,
                                             const server::HeaderList& headers);

}  // namespace claudegate::routes
