#include "claudegate/upstream/https_token_endpoint.hpp"

namespace claudegate::upstream {

Awaitable<Result<credentials::TokenHttpResponse>> HttpsTokenEndpoint::Post(std::string json_body) {
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
