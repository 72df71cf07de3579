#include "claudegate/routes/responses_handler.hpp"

#include <nlohmann/json.hpp>

#include "claudegate/exchange/accounting.hpp"
#include "claudegate/exchange/details.hpp"
#include "claudegate/exchange/exchange.hpp"
#include "claudegate/exchange/useful_headers.hpp"
#include "claudegate/routes/openai_request.hpp"
#include "claudegate/routes/responses_input.hpp"
#include "claudegate/routes/responses_socket.hpp"
#include "claudegate/routes/translated_relay.hpp"
#include "claudegate/translate/request/responses_request.hpp"
#include "claudegate/translate/response/responses_output.hpp"
#include "claudegate/translate/stream/responses_replay.hpp"
#include "claudegate/translate/stream/responses_stream.hpp"

namespace claudegate::routes {
namespace {

using server::Outcome;
using server::RequestContext;

// The error types the Responses stream translator reports for gateway-detected failures.
constexpr AbortTypes kResponsesAbortTypes{"timeout", "server_error"};

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

translate::ResponseMeta MakeMeta(const translate::ResponsesRequest& request,
                                 const std::string& model) {
  translate::ResponseMeta meta;
  meta.model = model;
  meta.created_at = UnixNow();
  meta.echo = request.echo;
  // The Response and its output items are named by the gateway, time first, not after
  // Anthropic's random message id: a stored turn's ids then go at the end of the store's indexes
  // (docs/performance.md, "Stored responses").
  meta.id_base = TimeOrderedIdBase();
  return meta;
}

// The Responses stream translator, with `on_done` called once with the final Response as soon as
// the translator finished, before the terminal event is written: a client that sends its next
// request the moment it reads `response.completed` finds this turn already queued ahead of its
// lookup (the store runs its work in order).
template <typename OnDone>
class SavingTranslator {
 public:
  SavingTranslator(translate::ResponsesStreamTranslator& inner, OnDone on_done)
      : inner_(inner), on_done_(std::move(on_done)) {}

  void OnEvent(const sse::Event& event, std::string& out) {
    inner_.OnEvent(event, out);
    Check();
  }
  void OnUpstreamEnd(std::string& out) {
    inner_.OnUpstreamEnd(out);
    Check();
  }
  void Abort(std::string_view type, std::string_view message, std::string& out) {
    inner_.Abort(type, message, out);
    Check();
  }
  [[nodiscard]] bool done() const { return inner_.done(); }
  [[nodiscard]] bool started() const { return inner_.started(); }
  [[nodiscard]] const auto& error() const { return inner_.error(); }
  [[nodiscard]] const auto& usage() const { return inner_.usage(); }

 private:
  void Check() {
    if (!called_ && inner_.done()) {
      called_ = true;
      on_done_(inner_.response());
    }
  }

  translate::ResponsesStreamTranslator& inner_;
  OnDone on_done_;
  bool called_ = false;
};

// A non-streaming client served from a streamed upstream call (docs/architecture.md: always
// stream upstream).
// `on_done` gets the Response object before it is sent, for the store.
template <typename OnDone>
Awaitable<Outcome> RelayAccumulated(RequestContext& ctx, upstream::AuthorizedResponse& answer,
                                    const translate::ResponseMeta& meta,
                                    const config::Upstream& config, OnDone on_done) {
  const upstream::UpstreamResponse& response = answer.response;
  auto accumulated = co_await AccumulateUpstreamMessage(ctx, answer, config);
  if (accumulated.replied) {
    co_return *accumulated.replied;
  }
  if (const auto usage = accumulated.message->find("usage");
      usage != accumulated.message->end() && usage->is_object()) {
    translate::Usage tokens;
    translate::UpdateUsage(tokens, *usage);
    exchange::RecordUsage(ctx, tokens);
  }
  auto translated = translate::ToResponse(*accumulated.message, meta);
  if (!translated) {
    co_return co_await server::LocalReply(ctx, translated.error(),
                                          std::string(details::kUpstreamUnparseable));
  }
  server::HeaderList headers = exchange::UsefulUpstreamHeaders(response.headers());
  std::string body = translated->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  on_done(*translated);
  co_return co_await server::JsonReply(ctx, 200, std::move(body), headers);
}

// `generate: false`: a completed response with no output and no usage, so that the next turn can
// continue from its input (OpenAI's WebSocket warm-up; the request was validated and translated
// like any other). Streamed as `response.created`, `.in_progress`, `.completed`.
template <typename Keep>
Awaitable<Outcome> ReplyWithoutGenerating(RequestContext& ctx,
                                          const translate::ResponsesRequest& request, Keep keep) {
  const translate::ResponseMeta meta = MakeMeta(request, request.anthropic.requested_model);
  nlohmann::json response =
      translate::ResponseSkeleton(meta, translate::ResponseId(meta.id_base), "completed");
  response["usage"] = translate::ResponseUsage(translate::Usage{});
  keep(response);
  if (!request.anthropic.stream) {
    co_return co_await server::JsonReply(
        ctx, 200, response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  co_return co_await server::EventStreamReply(ctx, translate::ReplayResponseEvents(response));
}

// OpenAI's default is to store (https://platform.openai.com/docs/api-reference/responses/create).
bool StoreRequested(const nlohmann::json& request) {
  const auto store = request.find("store");
  return store == request.end() || !store->is_boolean() || store->get<bool>();
}

// Only finished turns are worth continuing; a failed one is the client's to retry.
bool Storable(const nlohmann::json& response) {
  const auto status = response.find("status");
  return status != response.end() && (*status == "completed" || *status == "incomplete");
}

Error StoreUnavailable() {
  return Error(ErrorKind::kServiceUnavailable,
               "The response store is unavailable right now, so stored responses cannot be read. "
               "Send the whole conversation in `input` (with `store: false`), or try again later.",
               {}, "store_unavailable");
}

}  // namespace

Awaitable<ResponsesHandler::Conversation> ResponsesHandler::LoadConversation(
    RequestContext& ctx, nlohmann::json request) const {
  Conversation out;
  const auto input = request.find("input");
  const auto previous = request.find("previous_response_id");
  const bool has_previous = previous != request.end() && !previous->is_null();
  // A WebSocket remembers its last turn whether or not the store keeps it (responses_socket.hpp).
  const auto* socket = dynamic_cast<const SocketConversation*>(ctx.connection_local);
  const bool keep = StoreRequested(request) || socket != nullptr;
  if (input == request.end() || (!has_previous && !keep && !input->is_array())) {
    out.request = std::move(request);  // Nothing to resolve or keep; the translator checks input.
    co_return out;
  }
  auto reference_ids = ItemReferenceIds(*input);
  if (!reference_ids) {
    out.replied = co_await server::LocalReply(ctx, reference_ids.error(),
                                              std::string(details::kInvalidRequest));
    co_return out;
  }
  if (!has_previous && reference_ids->empty() && !keep) {
    out.request = std::move(request);
    co_return out;
  }
  if (has_previous && !previous->is_string()) {
    const Error error(ErrorKind::kInvalidRequest, "previous_response_id must be a string",
                      "previous_response_id", "invalid_type");
    out.replied = co_await server::LocalReply(ctx, error, std::string(details::kInvalidRequest));
    co_return out;
  }
  std::optional<std::vector<nlohmann::json>> remembered;
  if (has_previous && socket != nullptr) {
    remembered = socket->Find(previous->get<std::string>());
  }
  if (((has_previous && !remembered) || !reference_ids->empty()) && store_ == nullptr) {
    const Error error(ErrorKind::kInvalidRequest,
                      "Stored responses are turned off on this gateway "
                      "(claudegate.store.enabled: false), so previous_response_id and "
                      "item_reference cannot be used. Send the whole conversation in `input`.",
                      has_previous ? "previous_response_id" : "input", "response_not_stored");
    out.replied = co_await server::LocalReply(ctx, error, std::string(details::kResponseNotStored));
    co_return out;
  }

  nlohmann::json items = NormalizeInputItems(*input, RandomItemId);
  const bool has_references = !reference_ids->empty();
  if (has_references) {
    auto found = co_await store_->Items(std::move(*reference_ids));
    if (found.status != store::LookupStatus::kFound) {
      out.replied = co_await ReplyLookupFailure(ctx, found.status, "input",
                                                "An item named by item_reference");
      co_return out;
    }
    items = ReplaceItemReferences(items, found.value);
  }
  std::vector<nlohmann::json> history;
  if (has_previous) {
    std::string id = previous->get<std::string>();
    if (remembered) {
      history = std::move(*remembered);
    } else {
      auto found = co_await store_->Conversation(id);
      if (found.status != store::LookupStatus::kFound) {
        const std::string what = "Previous response with id '" + id + "'";
        out.replied = co_await ReplyLookupFailure(ctx, found.status, "previous_response_id", what);
        co_return out;
      }
      history = std::move(found.value);
    }
    out.previous_id = std::move(id);
    request.erase("previous_response_id");
  }
  // Without anything to resolve the translator reads the request's own input, ids or not.
  if (has_previous || has_references) {
    request["input"] = ConversationInput(history, items);
  }
  out.history = std::move(history);
  out.input_items = std::move(items);
  out.request = std::move(request);
  co_return out;
}

Awaitable<Outcome> ResponsesHandler::ReplyLookupFailure(RequestContext& ctx,
                                                        store::LookupStatus status,
                                                        std::string param, std::string what) const {
  if (status == store::LookupStatus::kUnavailable) {
    co_return co_await server::LocalReply(ctx, StoreUnavailable(),
                                          std::string(details::kStoreUnavailable));
  }
  const Error error(ErrorKind::kNotFound,
                    what + " not found. Stored responses are kept for " +
                        "claudegate.store.responses_ttl after they were made, unless deleted.",
                    std::move(param), "not_found");
  co_return co_await server::LocalReply(ctx, error, std::string(details::kStoredNotFound));
}

Awaitable<ResponsesHandler::Prepared> ResponsesHandler::Prepare(RequestContext& ctx,
                                                                bool always_stream) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  Prepared out;
  // Parse.
  auto parsed = ParseJsonBody(ctx.request.body(), "a Responses request object");
  if (parsed.error) {
    out.replied = co_await server::LocalReply(ctx, *parsed.error, std::string(parsed.details));
    co_return out;
  }
  // `generate: false` (WebSocket warm-up) makes a response without calling Claude.
  if (const auto generate = parsed.json.find("generate"); generate != parsed.json.end()) {
    out.generate = !generate->is_boolean() || generate->get<bool>();
    parsed.json.erase(generate);
  }
  // Continue a stored conversation (previous_response_id, item_reference).
  out.store = StoreRequested(parsed.json) && store_ != nullptr;
  out.conversation = co_await LoadConversation(ctx, std::move(parsed.json));
  if (out.conversation.replied) {
    out.replied = out.conversation.replied;
    co_return out;
  }
  // Translate.
  auto options = TranslateOptionsFor(config_);
  options.always_stream_upstream = always_stream;
  auto translated = translate::ResponsesToAnthropic(out.conversation.request, options);
  if (!translated) {
    out.replied =
        co_await server::LocalReply(ctx, translated.error(), std::string(details::kInvalidRequest));
    co_return out;
  }
  ctx.model = translated->anthropic.requested_model;
  LogTranslationNotes(ctx, translated->anthropic.warnings,
                      translated->anthropic.cache_breakpoints_added);
  out.translated = std::move(*translated);
  co_return out;
}

Awaitable<Outcome> ResponsesHandler::Create(RequestContext& ctx) const {
  // RelayAccumulated serves non-streaming clients from a streamed call.
  auto prepared = co_await Prepare(ctx, true);
  if (prepared.replied) {
    co_return *prepared.replied;
  }
  auto& translated = prepared.translated;
  auto& conversation = prepared.conversation;
  const bool store = prepared.store;
  // The finished turn is remembered by the WebSocket carrying it, if any, and queued for the store
  // before its last byte goes out.
  auto* socket = dynamic_cast<SocketConversation*>(ctx.connection_local);
  auto keep = [this, store, socket, &conversation](const nlohmann::json& response) {
    if (!Storable(response)) {
      return;
    }
    if (socket != nullptr) {
      const auto output = response.find("output");
      socket->Remember(response.value("id", ""), std::move(conversation.history),
                       conversation.input_items,
                       output != response.end() ? *output : nlohmann::json::array());
    }
    if (store) {
      SaveTurn(response, std::move(conversation));
    }
  };
  translated->echo["store"] = store;
  translated->echo["previous_response_id"] =
      conversation.previous_id ? nlohmann::json(*conversation.previous_id) : nlohmann::json();
  if (!prepared.generate) {
    co_return co_await ReplyWithoutGenerating(ctx, *translated, keep);
  }

  // Exchange.
  exchange::Exchange call(ctx, call_, &config_.retries);
  const auto fallback =
      JsonModelFallback(config_, translated->anthropic.requested_model, translated->anthropic.body);
  auto request = exchange::MessagesCall(
      translated->anthropic.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      true, config_.upstream.anthropic_version);
  const std::string_view no_client_betas;  // named: see the GCC 12 note in docs/architecture.md
  auto opened = co_await call.Open(std::move(request), no_client_betas, translated->anthropic.betas,
                                   &fallback);
  if (!opened.answer) {
    co_return opened.replied;
  }
  auto& answer = *opened.answer;
  const translate::ResponseMeta meta = MakeMeta(
      *translated, AnsweringModel(opened.fallback_model, translated->anthropic.requested_model));

  // Pump.
  if (translated->anthropic.stream) {
    translate::ResponsesStreamTranslator translator(meta);
    SavingTranslator saving(translator, keep);
    co_return co_await RelayTranslatedStream(ctx, answer, saving, config_.upstream, call_.metrics,
                                             kResponsesAbortTypes);
  }
  co_return co_await RelayAccumulated(ctx, answer, meta, config_.upstream, keep);
}

void ResponsesHandler::SaveTurn(const nlohmann::json& response, Conversation conversation) const {
  // Serialised here, on the io thread that made the Response: the store's worker gets a few
  // strings, not a tree of nodes to copy and free (docs/performance.md, "Stored responses").
  store_->Save(store::MakeStoredResponse(response, conversation.input_items,
                                         std::move(conversation.previous_id)));
}

}  // namespace claudegate::routes
