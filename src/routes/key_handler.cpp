#include "claudegate/routes/key_handler.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "claudegate/keys/key_json.hpp"
#include "claudegate/keys/key_text.hpp"
#include "claudegate/server/query_string.hpp"

namespace claudegate::routes {
namespace {

using nlohmann::json;
using server::RequestContext;

constexpr std::size_t kMaxKeysPerDelete = 1000;
constexpr std::int64_t kMaxKeyPageSize = 1000;

Awaitable<server::Outcome> KeyReply(RequestContext& ctx, const json& body) {
  co_return co_await server::JsonReply(ctx, 200,
                                       body.dump(-1, ' ', false, json::error_handler_t::replace));
}

Error KeysNeedAStore() {
  return Error(ErrorKind::kServiceUnavailable,
               "Virtual keys need the store, which is turned off or failed to open "
               "(claudegate.store; docs/keys.md). The master key keeps working.",
               {}, "store_unavailable");
}

Error KeyStoreFailed() {
  return Error(ErrorKind::kServiceUnavailable,
               "The key store failed; nothing was changed. Try again; the log says why.", {},
               "store_unavailable");
}

Error MasterKeyOnly() {
  return Error(ErrorKind::kPermission,
               "Only the master key (LITELLM_MASTER_KEY) manages keys; a virtual key may only "
               "read its own GET /key/info.",
               {}, "master_key_required");
}

Error UnknownVirtualKey() {
  return Error(ErrorKind::kNotFound, "No such key (give the key itself or its token).", "key",
               "key_not_found");
}

Error KeyAliasTaken(const store::KeyRecord& record) {
  return Error(ErrorKind::kInvalidRequest,
               "key_alias '" + record.alias.value_or("") + "' is already used by another key.",
               "key_alias", "key_alias_taken");
}

// The token a client names a key by: the key itself (`sk-…`) or its token.
std::optional<std::string> TokenNamedBy(std::string_view text) {
  if (keys::LooksLikeToken(text)) {
    return std::string(text);
  }
  if (text.starts_with("sk-") && text.size() <= 256) {
    return keys::TokenOf(text);
  }
  return std::nullopt;
}

std::optional<json> KeyRequestBody(const RequestContext& ctx) {
  auto body = json::parse(ctx.request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return std::nullopt;
  }
  return body;
}

// A refusal: the error and the access log's `details`.
using KeyRefusalReply = std::pair<Error, std::string>;

// An administrator's request refused before its body is read: a virtual key, or no store.
std::optional<KeyRefusalReply> AdminRefusal(const RequestContext& ctx, bool has_store) {
  if (!ctx.key_token.empty()) {
    return KeyRefusalReply{MasterKeyOnly(), "key_admin_forbidden"};
  }
  if (!has_store) {
    return KeyRefusalReply{KeysNeedAStore(), "store_off"};
  }
  return std::nullopt;
}

// A key write that did not happen, as the client hears of it; nullopt when it was done.
std::optional<KeyRefusalReply> WriteRefusal(store::KeyWrite written,
                                            const store::KeyRecord& record) {
  switch (written) {
    case store::KeyWrite::kDone:
      return std::nullopt;
    case store::KeyWrite::kAliasTaken:
      return KeyRefusalReply{KeyAliasTaken(record), "key_alias_taken"};
    case store::KeyWrite::kNotFound:
      return KeyRefusalReply{UnknownVirtualKey(), "key_not_found"};
    case store::KeyWrite::kUnavailable:
      break;
  }
  return KeyRefusalReply{KeyStoreFailed(), "store_failed"};
}

Error KeyBodyNotAnObject() {
  return Error(ErrorKind::kInvalidRequest, "The request body must be a JSON object.", {},
               "invalid_request_error");
}

// An administrator's write request: its JSON object body, or why it is refused before any of it
// is used (a virtual key, no store, not an object).
struct AdminWrite {
  std::optional<json> body;
  std::optional<KeyRefusalReply> refusal;
};

AdminWrite ReadAdminWrite(const RequestContext& ctx, bool has_store) {
  if (auto refusal = AdminRefusal(ctx, has_store)) {
    return {std::nullopt, std::move(refusal)};
  }
  auto body = KeyRequestBody(ctx);
  if (!body) {
    return {std::nullopt, KeyRefusalReply{KeyBodyNotAnObject(), "bad_body"}};
  }
  return {std::move(body), std::nullopt};
}

}  // namespace

Awaitable<server::Outcome> KeyHandler::Generate(RequestContext& ctx) const {
  const auto write = ReadAdminWrite(ctx, store_ != nullptr);
  if (write.refusal) {
    co_return co_await server::LocalReply(ctx, write.refusal->first, write.refusal->second);
  }
  const json& body = *write.body;
  if (body.contains("key")) {
    co_return co_await server::LocalReply(
        ctx,
        Error(ErrorKind::kInvalidRequest,
              "claudegate generates every key itself (32 random bytes); leave out 'key'.", "key",
              "invalid_request_error"),
        "bad_field");
  }
  const std::int64_t now = now_();
  const std::string key = keys::GenerateKey();
  store::KeyRecord record;
  record.token = keys::TokenOf(key);
  record.key_name = keys::KeyName(key);
  record.created_at = now;
  if (auto error = keys::ApplyKeyFields(body, record, now)) {
    co_return co_await server::LocalReply(ctx, *error, "bad_field");
  }
  const store::KeyWrite written = co_await store_->Put(record, true);
  if (auto refusal = WriteRefusal(written, record)) {
    co_return co_await server::LocalReply(ctx, refusal->first, refusal->second);
  }
  keys_.Put(record);
  spdlog::info("keys: generated {} ({})", record.key_name, record.alias.value_or("no alias"));
  json reply = keys::KeyInfoJson(record);
  reply["key"] = key;  // the only time the key is ever shown
  co_return co_await KeyReply(ctx, reply);
}

Awaitable<server::Outcome> KeyHandler::Update(RequestContext& ctx) const {
  const auto write = ReadAdminWrite(ctx, store_ != nullptr);
  if (write.refusal) {
    co_return co_await server::LocalReply(ctx, write.refusal->first, write.refusal->second);
  }
  const json& body = *write.body;
  const auto named = body.find("key");
  const auto token = named != body.end() && named->is_string()
                         ? TokenNamedBy(named->get_ref<const std::string&>())
                         : std::nullopt;
  auto record = token ? keys_.Get(*token) : std::nullopt;
  if (!record) {
    co_return co_await server::LocalReply(ctx, UnknownVirtualKey(), "key_not_found");
  }
  json fields = body;
  fields.erase("key");
  if (auto error = keys::ApplyKeyFields(fields, *record, now_())) {
    co_return co_await server::LocalReply(ctx, *error, "bad_field");
  }
  const store::KeyWrite written = co_await store_->Put(*record, false);
  if (auto refusal = WriteRefusal(written, *record)) {
    co_return co_await server::LocalReply(ctx, refusal->first, refusal->second);
  }
  keys_.Put(*record);
  spdlog::info("keys: updated {}", record->key_name);
  const json reply = keys::KeyInfoJson(keys_.Get(record->token).value_or(*record));
  co_return co_await KeyReply(ctx, reply);
}

Awaitable<server::Outcome> KeyHandler::Delete(RequestContext& ctx) const {
  const auto write = ReadAdminWrite(ctx, store_ != nullptr);
  if (write.refusal) {
    co_return co_await server::LocalReply(ctx, write.refusal->first, write.refusal->second);
  }
  const json& body = *write.body;
  // LiteLLM: {"keys": [...]} (keys or tokens) or {"key_aliases": [...]}.
  std::vector<std::string> tokens;
  std::vector<std::string> named;
  const auto keys_field = body.find("keys");
  const auto aliases_field = body.find("key_aliases");
  const bool by_key = keys_field != body.end() && keys_field->is_array();
  const bool by_alias = aliases_field != body.end() && aliases_field->is_array();
  if (by_key == by_alias || (by_key ? keys_field : aliases_field)->size() > kMaxKeysPerDelete) {
    co_return co_await server::LocalReply(
        ctx,
        Error(ErrorKind::kInvalidRequest,
              "Name the keys to delete as {\"keys\": [...]} (keys or tokens) or "
              "{\"key_aliases\": [...]}, at most 1000.",
              "keys", "invalid_request_error"),
        "bad_field");
  }
  const auto records = keys_.List();
  for (const auto& item : by_key ? *keys_field : *aliases_field) {
    if (!item.is_string()) {
      continue;
    }
    const auto& text = item.get_ref<const std::string&>();
    if (by_key) {
      if (auto token = TokenNamedBy(text)) {
        tokens.push_back(*token);
        named.push_back(text);
      }
    } else {
      for (const auto& record : records) {
        if (record.alias == text) {
          tokens.push_back(record.token);
          named.push_back(text);
        }
      }
    }
  }
  auto deleted = co_await store_->Delete(tokens);
  if (deleted.status != store::LookupStatus::kFound) {
    co_return co_await server::LocalReply(ctx, KeyStoreFailed(), "store_failed");
  }
  keys_.Remove(deleted.value);
  if (deleted.value.empty()) {
    co_return co_await server::LocalReply(ctx, UnknownVirtualKey(), "key_not_found");
  }
  // Answer with the names the client used for the keys that were deleted.
  json answered = json::array();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (std::find(deleted.value.begin(), deleted.value.end(), tokens[i]) != deleted.value.end()) {
      answered.push_back(named[i]);
    }
  }
  spdlog::info("keys: deleted {} keys", deleted.value.size());
  json reply;
  reply["deleted_keys"] = std::move(answered);
  co_return co_await KeyReply(ctx, reply);
}

Awaitable<server::Outcome> KeyHandler::Info(RequestContext& ctx) const {
  const auto named = server::QueryParameter(ctx.request.target(), "key");
  std::optional<std::string> token;
  if (named) {
    token = TokenNamedBy(*named);
  } else if (!ctx.key_token.empty()) {
    token = ctx.key_token;  // a virtual key asking about itself
  }
  if (!ctx.key_token.empty() && token != ctx.key_token) {
    co_return co_await server::LocalReply(ctx, MasterKeyOnly(), "key_admin_forbidden");
  }
  if (!store_) {
    co_return co_await server::LocalReply(ctx, KeysNeedAStore(), "store_off");
  }
  const auto record = token ? keys_.Get(*token) : std::nullopt;
  if (!record) {
    co_return co_await server::LocalReply(ctx, UnknownVirtualKey(), "key_not_found");
  }
  json reply;
  reply["key"] = named ? *named : record->token;
  reply["info"] = keys::KeyInfoJson(*record);
  co_return co_await KeyReply(ctx, reply);
}

Awaitable<server::Outcome> KeyHandler::List(RequestContext& ctx) const {
  if (auto refusal = AdminRefusal(ctx, store_ != nullptr)) {
    co_return co_await server::LocalReply(ctx, refusal->first, refusal->second);
  }
  // A positive page number or size, -1 when it is not a number.
  auto number = [&](std::string_view name, std::int64_t fallback) -> std::int64_t {
    const auto text = server::QueryParameter(ctx.request.target(), name);
    if (!text) {
      return fallback;
    }
    std::int64_t value = -1;
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    return error == std::errc() && end == text->data() + text->size() ? value : -1;
  };
  const std::int64_t page = number("page", 1);
  const std::int64_t size = number("size", 100);
  if (page < 1 || size < 1 || size > kMaxKeyPageSize) {
    co_return co_await server::LocalReply(
        ctx,
        Error(ErrorKind::kInvalidRequest,
              "'page' must be a positive integer and 'size' one from 1 to 1000.", "size",
              "invalid_request_error"),
        "bad_field");
  }
  const auto alias = server::QueryParameter(ctx.request.target(), "key_alias");
  const bool full = server::QueryParameter(ctx.request.target(), "return_full_object") == "true";
  std::vector<store::KeyRecord> records = keys_.List();
  if (alias) {
    std::erase_if(records, [&](const auto& record) { return record.alias != *alias; });
  }
  const auto total = static_cast<std::int64_t>(records.size());
  json listed = json::array();
  for (std::int64_t i = (page - 1) * size; i < std::min(total, page * size); ++i) {
    const auto& record = records[static_cast<std::size_t>(i)];
    listed.push_back(full ? keys::KeyInfoJson(record) : json(record.token));
  }
  json reply;
  reply["keys"] = std::move(listed);
  reply["total_count"] = total;
  reply["current_page"] = page;
  reply["total_pages"] = (total + size - 1) / size;
  co_return co_await KeyReply(ctx, reply);
}

}  // namespace claudegate::routes
