#include "claudegate/upstream/authorized_call.hpp"

#include <spdlog/spdlog.h>

#include "claudegate/upstream/anthropic_headers.hpp"

namespace claudegate::upstream {
namespace {

constexpr std::size_t kMaxErrorBody = 1024U * 1024U;

server::HeaderList WithCredential(const server::HeaderList& base, std::string_view client_betas,
                                  const std::vector<std::string>& betas,
                                  const config::Upstream& config,
                                  const credentials::Credential& credential) {
  server::HeaderList headers = base;
  AppendCredential(headers, credential);
  std::vector<std::string> extra = config.extra_betas;
  extra.insert(extra.end(), betas.begin(), betas.end());
  if (auto merged = MergeBetas(client_betas, extra, credential); !merged.empty()) {
    headers.emplace_back("anthropic-beta", std::move(merged));
  }
  return headers;
}

}  // namespace

Awaitable<Result<AuthorizedResponse>> SendAuthorized(
    const CallContext& call, UpstreamRequest request, std::string_view client_betas,
    const std::vector<std::string>& request_betas) {
  auto credential = co_await call.credentials.Current();
  if (!credential) {
    co_return credential.error();
  }
  const server::HeaderList base_headers = request.headers;
  for (int attempt = 0;; ++attempt) {
    request.headers =
        WithCredential(base_headers, client_betas, request_betas, call.config, *credential);
    const auto sent_at = std::chrono::steady_clock::now();
    auto sent = co_await call.client.Send(request);
    if (!sent) {
      if (call.metrics != nullptr) {
        call.metrics->RecordUpstreamResult(0, sent.error().message);
      }
      co_return sent.error();
    }
    AuthorizedResponse result{
        std::move(*sent), std::nullopt,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count(),
        std::string()};
    if (call.metrics != nullptr) {
      call.metrics->plan.Update(result.response.headers());
      call.metrics->RecordUpstreamResult(result.response.status());
    }
    const unsigned status = result.response.status();
    bool rejected = status == 401;
    if (status == 403) {
      auto body = co_await result.response.ReadAll(kMaxErrorBody, call.config.first_byte_timeout);
      result.error_body = body ? std::move(*body) : std::string();
      rejected = result.error_body->find("OAuth token has been revoked") != std::string::npos;
    }
    if (!rejected || attempt > 0) {
      co_return result;
    }
    // Nothing has reached the client yet, so one retry with a refreshed credential is invisible.
    auto replacement = co_await call.credentials.OnRejected(*credential);
    if (!replacement) {
      spdlog::warn("Anthropic rejected the Claude credential ({}) and no replacement is available",
                   status);
      co_return result;
    }
    credential = std::move(replacement);
  }
}

}  // namespace claudegate::upstream
