/// @file chat_completions_handler.hpp
/// `POST /v1/chat/completions`: OpenAI request → Anthropic Messages call → OpenAI response, as one
/// JSON body or as a live SSE stream relayed event by event.
///
/// Stateless apart from references to shared services; safe on any thread. Cancellation: when the
/// client disconnects the session cancels this handler, the pending upstream read aborts and the
/// upstream connection is closed (no tokens generated for nobody).
#pragma once

#include "claudegate/config/config.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/upstream/authorized_call.hpp"

namespace claudegate::routes {

class ChatCompletionsHandler {
 public:
  ChatCompletionsHandler(const config::Config& config, upstream::CallContext call)
      : config_(config), call_(call) {}

  Awaitable<server::Outcome> Handle(server::RequestContext& ctx) const;

 private:
  const config::Config& config_;
  upstream::CallContext call_;
};

}  // namespace claudegate::routes
