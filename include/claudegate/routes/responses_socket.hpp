/// @file responses_socket.hpp
/// The Responses API over a WebSocket (`GET /v1/responses` with `Upgrade: websocket`), as OpenAI
/// serves it (https://developers.openai.com/api/docs/guides/websocket-mode; docs/codex.md
/// "WebSocket"):
/// - the client sends `response.create` messages: a `POST /v1/responses` body plus `"type"`,
///   without `stream` (every answer is a stream) or `background` (refused);
/// - each is run as that POST through the middleware pipeline (so it is authenticated, logged,
///   counted and plan-guarded like one), and its Responses events come back one per text message;
/// - a refusal comes back as an `error` message carrying the HTTP status and OpenAI's error object:
///   `{"type":"error","status":400,"error":{"type","code","message","param"}}`;
/// - turns run one at a time in the order sent; `response.processed` (Codex's acknowledgement)
///   needs no answer;
/// - `previous_response_id` naming the socket's last response continues it from memory, so delta
///   turns work with `store: false` (Codex's default); other ids are looked up in the store.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/net.hpp"
#include "claudegate/server/request_context.hpp"
#include "claudegate/server/websocket.hpp"

namespace claudegate::routes {

/// The last response made on one socket, with every item of its conversation, so the next turn
/// can continue it without the store (OpenAI: "connection-local" state). One turn deep: a socket
/// runs one conversation at a time, and an older id goes to the store.
class SocketConversation final : public server::ConnectionLocal {
 public:
  /// Keeps response `id`'s conversation: `history` (what it continued), then its `input_items`,
  /// then its `output` items.
  void Remember(std::string id, std::vector<nlohmann::json> history,
                const nlohmann::json& input_items, const nlohmann::json& output);

  /// The conversation up to and including response `id`, when it is this socket's last response.
  [[nodiscard]] std::optional<std::vector<nlohmann::json>> Find(std::string_view id) const;

 private:
  std::string last_id_;
  std::vector<nlohmann::json> items_;
};

/// One upgraded connection's side of the Responses WebSocket.
class ResponsesSocket final : public server::UpgradedConnection {
 public:
  /// `handshake` is the opening request: its headers (the key, forwarded addresses) go with every
  /// turn, and its path names the route the turns are posted to.
  ResponsesSocket(const server::Request& handshake, std::string peer);

  Awaitable<void> Serve(server::MessageChannel& channel,
                        const server::UpgradeServices& services) override;

 private:
  /// Messages read while a turn runs wait here, bounded in count and bytes; beyond that the
  /// reader stops reading (the bytes wait in the kernel), as the HTTP session does.
  struct Inbox {
    explicit Inbox(const net::any_io_executor& executor);
    std::deque<std::string> messages;
    std::size_t bytes = 0;
    Timer wake;  ///< Cancelled whenever `messages` changes; its waiter re-checks.
    [[nodiscard]] bool full() const;
  };

  Awaitable<void> ReadMessages(server::MessageChannel& channel, Inbox& inbox);
  Awaitable<void> ProcessMessages(server::MessageChannel& channel, Inbox& inbox,
                                  const server::UpgradeServices& services);
  Awaitable<void> Handle(std::string message, server::MessageChannel& channel,
                         const server::UpgradeServices& services);

  server::Request headers_;  ///< The handshake's header fields, no body.
  std::string path_;         ///< `/v1/responses` or `/responses`, as the client opened it.
  std::string peer_;
  SocketConversation conversation_;
};

}  // namespace claudegate::routes
