/// @file models_handler.hpp
/// `GET /v1/models`, `/models` and `/v1/models/{id}`: the configured aliases, in OpenAI's list
/// shape, or in Anthropic's when the request carries `anthropic-version` (what Claude Code
/// expects).
#pragma once

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/middleware/middleware.hpp"

namespace claudegate::routes {

/// Renders the model routes from an immutable catalog; safe on any thread.
class ModelsHandler {
 public:
  explicit ModelsHandler(const config::ModelCatalog& catalog) : catalog_(catalog) {}

  /// The list.
  Awaitable<server::Outcome> List(server::RequestContext& ctx) const;
  /// One model by alias or id (the last path segment); 404 in the route's shape when unknown.
  Awaitable<server::Outcome> Get(server::RequestContext& ctx) const;

  /// OpenAI `{"object":"list","data":[...]}` (pure; for tests).
  [[nodiscard]] std::string OpenAiList() const;
  /// Anthropic `{"data":[...],"has_more":false,"first_id","last_id"}` (pure; for tests).
  [[nodiscard]] std::string AnthropicList() const;

 private:
  const config::ModelCatalog& catalog_;
};

}  // namespace claudegate::routes
