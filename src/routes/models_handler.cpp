#include "claudegate/routes/models_handler.hpp"

#include <nlohmann/json.hpp>

#include "claudegate/exchange/details.hpp"

namespace claudegate::routes {
namespace {

// Model release dates are not known offline; Anthropic itself documents the epoch as "unknown".
constexpr std::int64_t kUnknownCreated = 0;

nlohmann::json OpenAiModel(const config::ModelAlias& alias) {
  return {{"id", alias.name},
          {"object", "model"},
          {"created", kUnknownCreated},
          {"owned_by", "anthropic"},
          {"root", alias.upstream_id}};
}

nlohmann::json AnthropicModel(const config::ModelAlias& alias) {
  return {{"type", "model"},
          {"id", alias.name},
          {"display_name", alias.name + " (" + alias.upstream_id + ")"},
          {"created_at", "1970-01-01T00:00:00Z"}};
}

bool WantsAnthropicShape(const server::RequestContext& ctx) {
  return !ctx.request["anthropic-version"].empty();
}

}  // namespace

std::string ModelsHandler::OpenAiList() const {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& alias : catalog_.aliases()) {
    data.push_back(OpenAiModel(alias));
  }
  return nlohmann::json{{"object", "list"}, {"data", std::move(data)}}.dump();
}

std::string ModelsHandler::AnthropicList() const {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& alias : catalog_.aliases()) {
    data.push_back(AnthropicModel(alias));
  }
  nlohmann::json page = {
      {"data", data}, {"has_more", false}, {"first_id", nullptr}, {"last_id", nullptr}};
  if (!data.empty()) {
    page["first_id"] = data.front()["id"];
    page["last_id"] = data.back()["id"];
  }
  return page.dump();
}

Awaitable<server::Outcome> ModelsHandler::List(server::RequestContext& ctx) const {
  // Built before the co_await: GCC 12 destroys a conditional's temporary twice in a coroutine.
  std::string body = WantsAnthropicShape(ctx) ? AnthropicList() : OpenAiList();
  co_return co_await server::JsonReply(ctx, 200, std::move(body));
}

Awaitable<server::Outcome> ModelsHandler::Get(server::RequestContext& ctx) const {
  const std::string_view path = ctx.Path();
  const std::string id(path.substr(path.rfind('/') + 1));
  const bool anthropic = WantsAnthropicShape(ctx);
  for (const auto& alias : catalog_.aliases()) {
    if (alias.name == id || alias.upstream_id == id) {
      std::string body = (anthropic ? AnthropicModel(alias) : OpenAiModel(alias)).dump();
      co_return co_await server::JsonReply(ctx, 200, std::move(body));
    }
  }
  if (anthropic) {
    ctx.flavor = ApiFlavor::kAnthropic;
  }
  co_return co_await server::LocalReply(
      ctx,
      Error{ErrorKind::kModelNotFound,
            "The model '" + id + "' does not exist. GET /v1/models lists the available models.",
            "model", "model_not_found"},
      std::string(details::kModelNotFound));
}

}  // namespace claudegate::routes
