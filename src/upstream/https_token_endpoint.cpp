#include "claudegate/upstream/https_token_endpoint.hpp"

#include <variant>

namespace claudegate::upstream {

Awaitable<Result<credentials::TokenHttpResponse>> HttpsTokenEndpoint::Post(std::string json_body) {
  // The exchange races a deadline with `||`, whose branches must not run in parallel on a
  // multi-threaded executor: run it on a strand of its own (see upstream_client.hpp).
  auto strand = net::make_strand(co_await net::this_coro::executor);
  co_return co_await net::co_spawn(strand, Bounded(std::move(json_body)), net::use_awaitable);
}

Awaitable<Result<credentials::TokenHttpResponse>> HttpsTokenEndpoint::Bounded(
    std::string json_body) {
  // One deadline for the whole exchange (connect, TLS, request, headers, body), like the CLI's
  // 30 s axios timeout (reference: docs/credentials.md). The upstream client's own first-byte
  // timeout is the one for model generations (10 minutes) and must not apply here: a token
  // endpoint that accepts the connection and never answers would block every refresh that long.
  using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
  Timer deadline(co_await net::this_coro::executor);
  deadline.expires_after(timeout_);
  auto raced = co_await (Exchange(std::move(json_body)) || deadline.async_wait());
  if (raced.index() == 0) {
    co_return std::move(std::get<0>(raced));
  }
  co_return Error{
      ErrorKind::kUpstreamTimeout,
      "the token endpoint did not answer within " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count()) +
          " ms",
      {},
      "timeout"};
}

Awaitable<Result<credentials::TokenHttpResponse>> HttpsTokenEndpoint::Exchange(
    std::string json_body) {
  UpstreamRequest request;
  request.body = std::move(json_body);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", "application/json");
  auto response = co_await client_.SendTo(url_, request);
  if (!response) {
    co_return response.error();
  }
  auto body = co_await response->ReadAll(1024U * 1024U, timeout_);
  if (!body) {
    co_return body.error();
  }
  co_return credentials::TokenHttpResponse{response->status(), std::move(*body)};
}

}  // namespace claudegate::upstream
