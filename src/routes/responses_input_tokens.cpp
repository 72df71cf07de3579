// `POST /v1/responses/input_tokens`: OpenAI's token count for a Responses request
// (https://platform.openai.com/docs/api-reference/responses/input-tokens), answered by Anthropic's
// `POST /v1/messages/count_tokens` for the same translated request
// (https://docs.anthropic.com/en/api/messages-count-tokens).
#include <array>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claudegate/exchange/details.hpp"
#include "claudegate/exchange/exchange.hpp"
#include "claudegate/routes/responses_handler.hpp"

namespace claudegate::routes {
namespace {

using server::Outcome;
using server::RequestContext;

// count_tokens accepts only what shapes the prompt; generation parameters (max_tokens, stream,
// temperature, …) are refused there as extra inputs, so the translated body is reduced to these.
constexpr std::array<std::string_view, 7> kCountedFields{
    "model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"};

// A count answer is a few bytes; anything larger is not one.
constexpr std::size_t kMaxCountAnswerBytes = 64U * 1024U;

}  // namespace

Awaitable<Outcome> ResponsesHandler::InputTokens(RequestContext& ctx) const {
  auto prepared = co_await Prepare(ctx, false);
  if (prepared.replied) {
    co_return *prepared.replied;
  }
  const nlohmann::json& body = prepared.translated->anthropic.body;
  nlohmann::json counted = nlohmann::json::object();
  for (const std::string_view field : kCountedFields) {
    if (const auto it = body.find(field); it != body.end()) {
      counted[std::string(field)] = *it;
    }
  }
  auto request =
      exchange::MessagesCall(counted.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                             false, config_.upstream.anthropic_version);
  request.target = "/v1/messages/count_tokens";
  exchange::Exchange call(ctx, call_, &config_.retries);
  const std::string_view no_client_betas;  // named: see the GCC 12 note in docs/architecture.md
  auto opened =
      co_await call.Open(std::move(request), no_client_betas, prepared.translated->anthropic.betas);
  if (!opened.answer) {
    co_return opened.replied;
  }
  auto answer_body =
      co_await exchange::ReadBody(*opened.answer, kMaxCountAnswerBytes, config_.upstream);
  if (!answer_body) {
    co_return co_await server::LocalReply(ctx, answer_body.error(),
                                          std::string(details::kUpstreamFailed));
  }
  const auto parsed = nlohmann::json::parse(*answer_body, nullptr, false);
  const auto tokens = parsed.is_object() ? parsed.find("input_tokens") : parsed.end();
  if (!parsed.is_object() || tokens == parsed.end() || !tokens->is_number_unsigned()) {
    const Error error(ErrorKind::kUpstreamUnreachable,
                      "Anthropic's count_tokens answer has no input_tokens count");
    co_return co_await server::LocalReply(ctx, error, std::string(details::kUpstreamUnparseable));
  }
  const nlohmann::json reply = {{"object", "response.input_tokens"}, {"input_tokens", *tokens}};
  co_return co_await server::JsonReply(ctx, 200, reply.dump());
}

}  // namespace claudegate::routes
