// `GET`/`DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`: reading back what
// `Create` stored (OpenAI's shapes: https://platform.openai.com/docs/api-reference/responses).
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/exchange/details.hpp"
#include "claudegate/routes/responses_handler.hpp"
#include "claudegate/translate/stream/responses_replay.hpp"

namespace claudegate::routes {
namespace {

using server::Outcome;
using server::RequestContext;

constexpr std::string_view kInputItemsSuffix = "/input_items";

// `{id}` or `{id}/input_items` after the route's prefix (`/v1/responses/` or `/responses/`).
struct Target {
  std::string id;
  bool input_items = false;
};

Target ParseTarget(std::string_view path) {
  const std::string_view prefix = path.starts_with("/v1/") ? "/v1/responses/" : "/responses/";
  path.remove_prefix(std::min(prefix.size(), path.size()));
  Target target;
  if (path.ends_with(kInputItemsSuffix)) {
    path.remove_suffix(kInputItemsSuffix.size());
    target.input_items = true;
  }
  target.id = std::string(path);
  return target;
}

// One query parameter's raw value (ids and numbers here need no percent-decoding).
std::optional<std::string_view> QueryValue(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool ValidId(std::string_view id) {
  return !id.empty() && id.size() <= 256 && id.find('/') == std::string_view::npos;
}

Error NotFound(const std::string& id) {
  return Error(ErrorKind::kNotFound,
               "Response with id '" + id +
                   "' not found. Responses are kept only when created with `store: true` (the "
                   "default), for claudegate.store.responses_ttl, unless deleted.",
               "response_id", "not_found");
}

Error StoreOff() {
  return Error(ErrorKind::kNotFound,
               "Stored responses are turned off on this gateway (claudegate.store.enabled: "
               "false), so no response can be retrieved.",
               "response_id", "response_not_stored");
}

std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Awaitable<Outcome> ResponsesHandler::Retrieve(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  const Target target = ParseTarget(ctx.Path());
  if (store_ == nullptr) {
    co_return co_await server::LocalReply(ctx, StoreOff(),
                                          std::string(details::kResponseNotStored));
  }
  if (!ValidId(target.id)) {
    co_return co_await server::LocalReply(ctx, NotFound(target.id),
                                          std::string(details::kStoredNotFound));
  }
  const std::string_view request_target = ctx.request.target();
  if (!target.input_items) {
    const auto stream = QueryValue(request_target, "stream");
    const bool replay = stream && *stream == "true";
    std::int64_t starting_after = -1;
    if (const auto value = QueryValue(request_target, "starting_after"); value && replay) {
      const auto [end, ec] =
          std::from_chars(value->data(), value->data() + value->size(), starting_after);
      if (ec != std::errc() || end != value->data() + value->size() || starting_after < 0) {
        const Error error(ErrorKind::kInvalidRequest,
                          "starting_after must be a sequence number (an integer, 0 or more).",
                          "starting_after", "invalid_value");
        co_return co_await server::LocalReply(ctx, error, std::string(details::kInvalidRequest));
      }
    }
    auto found = co_await store_->Get(target.id);
    if (found.status != store::LookupStatus::kFound) {
      co_return co_await ReplyLookupFailure(ctx, found.status, "response_id",
                                            "Response with id '" + target.id + "'");
    }
    if (replay) {
      // The stored response told again as its event stream (responses_replay.hpp).
      co_return co_await server::EventStreamReply(
          ctx, translate::ReplayResponseEvents(found.value, starting_after));
    }
    co_return co_await server::JsonReply(ctx, 200, Dump(found.value));
  }

  ctx.route = ctx.Path().starts_with("/v1/") ? "/v1/responses/{id}/input_items"
                                             : "/responses/{id}/input_items";
  std::size_t limit = 20;  // OpenAI's default; 1..100.
  if (const auto value = QueryValue(request_target, "limit")) {
    std::size_t parsed = 0;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), parsed);
    if (ec != std::errc() || end != value->data() + value->size() || parsed < 1 || parsed > 100) {
      const Error error(ErrorKind::kInvalidRequest, "limit must be an integer from 1 to 100",
                        "limit", "invalid_value");
      co_return co_await server::LocalReply(ctx, error, std::string(details::kInvalidRequest));
    }
    limit = parsed;
  }
  store::ListOrder order = store::ListOrder::kDescending;  // OpenAI's default.
  if (const auto value = QueryValue(request_target, "order")) {
    if (*value == "asc") {
      order = store::ListOrder::kAscending;
    } else if (*value != "desc") {
      const Error error(ErrorKind::kInvalidRequest, "order must be 'asc' or 'desc'", "order",
                        "invalid_value");
      co_return co_await server::LocalReply(ctx, error, std::string(details::kInvalidRequest));
    }
  }
  std::optional<std::string> after;
  if (const auto value = QueryValue(request_target, "after"); value && !value->empty()) {
    after = std::string(*value);
  }
  auto page = co_await store_->InputItems(target.id, std::move(after), limit, order);
  if (page.status != store::LookupStatus::kFound) {
    co_return co_await ReplyLookupFailure(ctx, page.status, "response_id",
                                          "Response with id '" + target.id + "'");
  }
  nlohmann::json data = nlohmann::json::array();
  for (auto& item : page.value.items) {
    data.push_back(std::move(item));
  }
  nlohmann::json list = {
      {"object", "list"},
      {"data", data},
      {"first_id", data.empty() ? nlohmann::json() : nlohmann::json(data.front().value("id", ""))},
      {"last_id", data.empty() ? nlohmann::json() : nlohmann::json(data.back().value("id", ""))},
      {"has_more", page.value.has_more}};
  co_return co_await server::JsonReply(ctx, 200, Dump(list));
}

Awaitable<Outcome> ResponsesHandler::Delete(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  const Target target = ParseTarget(ctx.Path());
  if (store_ == nullptr) {
    co_return co_await server::LocalReply(ctx, StoreOff(),
                                          std::string(details::kResponseNotStored));
  }
  if (target.input_items || !ValidId(target.id)) {
    co_return co_await server::LocalReply(ctx, NotFound(target.id),
                                          std::string(details::kStoredNotFound));
  }
  const auto status = co_await store_->Delete(target.id);
  if (status != store::LookupStatus::kFound) {
    co_return co_await ReplyLookupFailure(ctx, status, "response_id",
                                          "Response with id '" + target.id + "'");
  }
  const nlohmann::json deleted = {{"id", target.id}, {"object", "response"}, {"deleted", true}};
  co_return co_await server::JsonReply(ctx, 200, Dump(deleted));
}

}  // namespace claudegate::routes
