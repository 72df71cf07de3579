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
/// The gateway keeps no conversation state: nothing is stored, `store` is accepted and ignored
/// (every Response says `store:false`), `previous_response_id`/`conversation`/`item_reference`
/// are a 400, and `GET /v1/responses/{id}` (`Retrieve`) is a 404 explaining why.
///
/// Stateless apart from references to shared services; safe on any thread. Cancellation: when the
/// client disconnects the session cancels the handler, the pending upstream read aborts and the
/// upstream connection is closed.
#pragma once

#include "claudegate/config/config.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/upstream/authorized_call.hpp"

namespace claudegate::routes {

/// The Responses API routes.
class ResponsesHandler {
 public:
  /// `config` and the services in `call` are borrowed and must outlive the handler.
  ResponsesHandler(const config::Config& config, upstream::CallContext call)
      : config_(config), call_(call) {}

  /// `POST /v1/responses`. Errors: 400 for invalid or stateful requests, 404 for unknown models,
  /// the mapped upstream status for upstream errors (OpenAI error shape throughout). A stream that
  /// fails after it started ends with `error` + `response.failed` events.
  Awaitable<server::Outcome> Create(server::RequestContext& ctx) const;

  /// `GET /v1/responses/{id}`: always 404 in OpenAI's shape (code `response_not_stored`), since
  /// no response is ever stored.
  Awaitable<server::Outcome> Retrieve(server::RequestContext& ctx) const;

 private:
  const config::Config& config_;
  upstream::CallContext call_;
};

}  // namespace claudegate::routes
