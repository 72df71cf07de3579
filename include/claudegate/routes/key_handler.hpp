/// @file key_handler.hpp
/// LiteLLM's key management routes (docs/keys.md), so the seed's users' scripts keep working:
/// `POST /key/generate`, `POST /key/update`, `POST /key/delete`, `GET /key/info`, `GET /key/list`.
/// Master key only, except that a virtual key may read its own `GET /key/info`. Every change is
/// written to the store before it is answered, and takes effect on the next request.
///
/// Errors in OpenAI's (LiteLLM's) shape: 400 for a bad field (named in `param`), 403 for a
/// virtual key, 404 for an unknown key, 503 when the store is off or failing.
#pragma once

#include <memory>

#include "claudegate/keys/key_registry.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/store/key_store.hpp"

namespace claudegate::routes {

class KeyHandler {
 public:
  /// `store` is null when the store is turned off; `keys` must outlive the handler.
  KeyHandler(std::shared_ptr<store::KeyStore> store, keys::KeyRegistry& keys, keys::Clock now)
      : store_(std::move(store)), keys_(keys), now_(std::move(now)) {}

  Awaitable<server::Outcome> Generate(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> Update(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> Delete(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> Info(server::RequestContext& ctx) const;
  Awaitable<server::Outcome> List(server::RequestContext& ctx) const;

 private:
  std::shared_ptr<store::KeyStore> store_;
  keys::KeyRegistry& keys_;
  keys::Clock now_;
};

}  // namespace claudegate::routes
