#include "claudegate/routes/responses_socket.hpp"

#include <utility>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <spdlog/spdlog.h>

#include "claudegate/error.hpp"
#include "claudegate/routes/responses_handler.hpp"
#include "claudegate/routes/socket_turn_sink.hpp"
#include "claudegate/server/reply.hpp"

namespace claudegate::routes {
namespace {

using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

// While a turn runs, at most this much may wait behind it (Codex sends `response.processed`
// acknowledgements, and a client may queue its next turn); beyond it the reader pauses.
constexpr std::size_t kMaxQueuedMessages = 8;
constexpr std::size_t kMaxQueuedBytes = 1U << 20U;

// RFC 6455 §7.4.1.
constexpr std::uint16_t kCloseGoingAway = 1001;

// Header fields of the handshake that describe the handshake itself, not the requests the socket
// carries.
bool HandshakeOnly(http::field name) {
  switch (name) {
    case http::field::upgrade:
    case http::field::connection:
    case http::field::sec_websocket_key:
    case http::field::sec_websocket_version:
    case http::field::sec_websocket_extensions:
    case http::field::sec_websocket_protocol:
    case http::field::content_length:
    case http::field::transfer_encoding:
    case http::field::expect:
      return true;
    default:
      return false;
  }
}

// Waits until `wake` is cancelled by the other side of the inbox. False when this coroutine itself
// was cancelled (the other branch of Serve ended): stop.
Awaitable<bool> WaitForChange(Timer& wake) {
  wake.expires_at(Timer::time_point::max());
  co_await wake.async_wait();
  const net::cancellation_state state = co_await net::this_coro::cancellation_state;
  co_return state.cancelled() == net::cancellation_type::none;
}

Awaitable<void> SendError(server::MessageChannel& channel, const Error& error) {
  const std::string message =
      SocketErrorMessage(ErrorStatus(error.kind), ErrorBody(ApiFlavor::kOpenAi, error), {});
  co_await channel.Write(message);
}

}  // namespace

void SocketConversation::Remember(std::string id, std::vector<json> history,
                                  const json& input_items, const json& output) {
  last_id_ = std::move(id);
  items_ = std::move(history);
  for (const json* items : {&input_items, &output}) {
    if (items->is_array()) {
      items_.insert(items_.end(), items->begin(), items->end());
    }
  }
}

std::optional<std::vector<json>> SocketConversation::Find(std::string_view id) const {
  if (last_id_.empty() || id != last_id_) {
    return std::nullopt;
  }
  return items_;
}

ResponsesSocket::Inbox::Inbox(const net::any_io_executor& executor)
    : wake(executor, Timer::time_point::max()) {}

bool ResponsesSocket::Inbox::full() const {
  return messages.size() >= kMaxQueuedMessages || bytes >= kMaxQueuedBytes;
}

ResponsesSocket::ResponsesSocket(const server::Request& handshake, std::string peer)
    : path_(handshake.target().substr(0, handshake.target().find('?'))), peer_(std::move(peer)) {
  for (const auto& field : handshake.base()) {
    if (!HandshakeOnly(field.name())) {
      headers_.insert(field.name_string(), field.value());
    }
  }
}

Awaitable<void> ResponsesSocket::Serve(server::MessageChannel& channel,
                                       const server::UpgradeServices& services) {
  Inbox inbox(co_await net::this_coro::executor);
  // The reader ends when the client closes or the connection breaks; that cancels the processor
  // and with it a turn in flight, as a client hanging up cancels an HTTP request.
  co_await (ReadMessages(channel, inbox) || ProcessMessages(channel, inbox, services));
}

Awaitable<void> ResponsesSocket::ReadMessages(server::MessageChannel& channel, Inbox& inbox) {
  for (;;) {
    while (inbox.full()) {
      if (!co_await WaitForChange(inbox.wake)) {
        co_return;
      }
    }
    std::string message;
    if (const error_code ec = co_await channel.Read(message); ec) {
      co_return;
    }
    inbox.bytes += message.size();
    inbox.messages.push_back(std::move(message));
    inbox.wake.cancel();
  }
}

Awaitable<void> ResponsesSocket::ProcessMessages(server::MessageChannel& channel, Inbox& inbox,
                                                 const server::UpgradeServices& services) {
  for (;;) {
    services.set_idle(true);
    if (services.draining()) {
      co_await channel.Close(kCloseGoingAway, "server shutting down");
      co_return;
    }
    while (inbox.messages.empty()) {
      if (!co_await WaitForChange(inbox.wake)) {
        co_return;
      }
    }
    std::string message = std::move(inbox.messages.front());
    inbox.messages.pop_front();
    inbox.bytes -= message.size();
    inbox.wake.cancel();
    services.set_idle(false);
    co_await Handle(std::move(message), channel, services);
  }
}

Awaitable<void> ResponsesSocket::Handle(std::string message, server::MessageChannel& channel,
                                        const server::UpgradeServices& services) {
  json event = json::parse(message, nullptr, false);
  message.clear();
  message.shrink_to_fit();
  if (!event.is_object()) {
    const Error error(ErrorKind::kInvalidRequest,
                      "A WebSocket message must be a JSON object with a `type`, e.g. "
                      "{\"type\": \"response.create\", \"model\": …, \"input\": …}.",
                      {}, "invalid_json");
    co_await SendError(channel, error);
    co_return;
  }
  const auto type = event.find("type");
  const std::string kind = type != event.end() && type->is_string() ? type->get<std::string>() : "";
  if (kind == "response.processed") {
    co_return;  // Codex's acknowledgement of a finished response: nothing to answer.
  }
  if (kind != "response.create") {
    const Error error(ErrorKind::kInvalidRequest,
                      "Unsupported client event type '" + kind +
                          "'. The Responses WebSocket accepts `response.create` (and "
                          "`response.processed`).",
                      "type", "unknown_event_type");
    co_await SendError(channel, error);
    co_return;
  }
  event.erase("type");
  if (const auto background = event.find("background");
      background != event.end() && background->is_boolean() && background->get<bool>()) {
    const Error error(ErrorKind::kInvalidRequest,
                      "background is not supported over the WebSocket; use POST /v1/responses.",
                      "background", "unsupported_parameter");
    co_await SendError(channel, error);
    co_return;
  }
  event["stream"] = true;  // implicit on a WebSocket

  server::Request request = headers_;
  request.method(http::verb::post);
  request.target(path_);
  request.version(11);
  request.set(http::field::content_type, "application/json");
  request.body() = event.dump(-1, ' ', false, json::error_handler_t::replace);
  event = json();
  request.prepare_payload();

  SocketTurnSink sink(channel);
  server::RequestContext turn(request, sink, peer_);
  turn.connection_local = &conversation_;
  co_await services.run(turn);
  if (!sink.head_written()) {
    spdlog::warn("websocket turn ended without an answer peer={}", peer_);
  }
}

Awaitable<server::Outcome> ResponsesHandler::OpenWebSocket(server::RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  if (!beast::iequals(ctx.request[http::field::upgrade], "websocket")) {
    const Error wrong_method(ErrorKind::kMethodNotAllowed,
                             "Create a response with POST /v1/responses; GET needs a response id "
                             "(/v1/responses/{id}).",
                             {}, "method_not_allowed");
    co_return co_await server::LocalReply(ctx, wrong_method, "method_not_allowed");
  }
  if (ctx.connection_local != nullptr) {
    const Error nested(ErrorKind::kInvalidRequest, "A WebSocket cannot be opened inside another.",
                       {}, "bad_request");
    co_return co_await server::LocalReply(ctx, nested, "websocket_nested");
  }
  auto socket = std::make_shared<ResponsesSocket>(ctx.request, ctx.peer);
  const error_code ec = co_await ctx.sink.AcceptWebSocket(ctx.request);
  if (ec == net::error::operation_not_supported) {
    // Clients fall back to HTTP at once on a 426 (Codex retries for seconds on 404/405/501).
    const Error error(ErrorKind::kUpgradeRequired,
                      "This connection cannot be upgraded to a WebSocket; send POST "
                      "/v1/responses (with stream: true for events).",
                      {}, "websocket_not_supported");
    co_return co_await server::LocalReply(ctx, error, "websocket_not_supported");
  }
  if (ec) {
    // Beast answered an invalid handshake itself (400, or 426 for another WebSocket version).
    ctx.details = "websocket_handshake_failed";
    co_return server::Outcome{ctx.sink.status(), 0};
  }
  ctx.details = "websocket";
  ctx.upgrade = std::move(socket);
  co_return server::Outcome{101, 0};
}

}  // namespace claudegate::routes
