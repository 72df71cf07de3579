/// @file responses_handler.hpp
/// `POST /v1/responses` (and `/responses`): OpenAI Responses request → Anthropic Messages call →
/// a Response object, as one JSON body or as a live stream of Responses events.
///
/// Shares the translator core with `/v1/chat/completions` (see
/// `translate/request/responses_request.hpp`) and the same upstream behaviour: authorized call with
/// one refresh-and-retry, always streaming upstream, heartbeats during long silences, one client
/// write per upstream read (backpressure), upstream errors in OpenAI's shape with
/// `retry-after`/`x-should-retry`.
///
/// Stored responses (docs/codex.md "Stored responses"): with `store` (OpenAI's default, true)
/// each finished turn is queued for the store behind the reply, with its input items; a later
/// `previous_response_id` or `item_reference` reads them back, and `GET`/`DELETE
/// /v1/responses/{id}` and `GET /v1/responses/{id}/input_items` serve them. A store that fails
/// never costs the client its answer (the turn is dropped and counted); a lookup that needs it is a
/// 503, an unknown or expired id a 404.
///
/// Stateless apart from references to shared services; safe on any thread. Cancellation: when the
/// client disconnects the session cancels the handler, the pending upstream read aborts and the
/// upstream connection is closed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/config/config.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/store/response_store.hpp"
#include "claudegate/translate/request/responses_request.hpp"
#include "claudegate/upstream/authorized_call.hpp"

namespace claudegate::routes {

/// The Responses API routes.
class ResponsesHandler {
 public:
  /// `config` and the services in `call` are borrowed and must outlive the handler. `store` is
  /// null when stored responses are turned off (`claudegate.store.enabled: false`).
  ResponsesHandler(const config::Config& config, upstream::CallContext call,
                   std::shared_ptr<store::ResponseStore> store)
      : config_(config), call_(call), store_(std::move(store)) {}

  /// `POST /v1/responses`. Errors: 400 for invalid requests, 404 for unknown models and for a
  /// `previous_response_id`/`item_reference` the store does not hold, 503 when the store is
  /// needed and failing, the mapped upstream status for upstream errors (OpenAI error shape
  /// throughout). A stream that fails after it started ends with `error` + `response.failed`.
  Awaitable<server::Outcome> Create(server::RequestContext& ctx) const;

  /// `GET /v1/responses/{id}` and `GET /v1/responses/{id}/input_items` (OpenAI's list shape with
  /// `after`, `limit` and `order`).
  Awaitable<server::Outcome> Retrieve(server::RequestContext& ctx) const;

  /// `DELETE /v1/responses/{id}`: `{"id", "object": "response", "deleted": true}` or a 404.
  Awaitable<server::Outcome> Delete(server::RequestContext& ctx) const;

  /// `POST /v1/responses/input_tokens`: the request translated as `Create` would, counted by
  /// Anthropic's `count_tokens`; `{"object": "response.input_tokens", "input_tokens": N}`.
  Awaitable<server::Outcome> InputTokens(server::RequestContext& ctx) const;

  /// `GET /v1/responses` with `Upgrade: websocket`: the Responses WebSocket (responses_socket.hpp),
  /// answered `101` and handed to the session. A plain `GET` is a 405; a sink that cannot upgrade
  /// gets a 426, on which clients fall back to HTTP at once (docs/codex.md).
  Awaitable<server::Outcome> OpenWebSocket(server::RequestContext& ctx) const;

 private:
  /// The request as the translator should see it, once the store has answered.
  struct Conversation {
    nlohmann::json request;                  ///< `input` resolved, `previous_response_id` gone.
    std::vector<nlohmann::json> history;     ///< The conversation continued (earlier turns).
    nlohmann::json input_items;              ///< This turn's input with ids, for the store.
    std::optional<std::string> previous_id;  ///< The turn continued.
    std::optional<server::Outcome> replied;  ///< Set when the request was answered already.
  };

  /// Parse, stored conversation, translation: the steps `Create` and `InputTokens` share.
  struct Prepared {
    Conversation conversation;
    std::optional<translate::ResponsesRequest> translated;
    bool store = false;                      ///< Keep this turn (asked for and turned on).
    bool generate = true;                    ///< false: answer without calling Claude.
    std::optional<server::Outcome> replied;  ///< Set when the request was answered already.
  };

  Awaitable<Prepared> Prepare(server::RequestContext& ctx, bool always_stream) const;
  Awaitable<Conversation> LoadConversation(server::RequestContext& ctx,
                                           nlohmann::json request) const;
  Awaitable<server::Outcome> ReplyLookupFailure(server::RequestContext& ctx,
                                                store::LookupStatus status, std::string param,
                                                std::string what) const;
  void SaveTurn(const nlohmann::json& response, Conversation conversation) const;

  const config::Config& config_;
  upstream::CallContext call_;
  std::shared_ptr<store::ResponseStore> store_;
};

}  // namespace claudegate::routes
