/// @file messages_handler.hpp
/// `POST /v1/messages` and `/v1/messages/count_tokens`: Anthropic's own API relayed faithfully for
/// Claude Code and the Anthropic SDKs. The body goes upstream byte for byte (only a model alias is
/// substituted in place); the client's `anthropic-version` and `anthropic-beta` pass through
/// (betas merged with the OAuth beta); the credential is swapped for the gateway's; responses,
/// streams and upstream errors come back unchanged.
///
/// Safe on any thread. A client disconnect cancels the handler and closes the upstream request.
#pragma once

#include "claudegate/config/config.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/upstream/authorized_call.hpp"

namespace claudegate::routes {

class MessagesHandler {
 public:
  MessagesHandler(const config::Config& config, upstream::CallContext call)
      : config_(config), call_(call) {}

  Awaitable<server::Outcome> Handle(server::RequestContext& ctx) const;

 private:
  const config::Config& config_;
  upstream::CallContext call_;
};

}  // namespace claudegate::routes
