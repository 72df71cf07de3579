#include "claudegate/credentials/static_credential_source.hpp"

namespace claudegate::credentials {

StaticCredentialSource::StaticCredentialSource(Credential credential, std::string variable)
    : credential_(std::move(credential)), variable_(std::move(variable)) {}

Awaitable<Result<Credential>> StaticCredentialSource::Current() { co_return credential_; }

Awaitable<Result<Credential>> StaticCredentialSource::OnRejected(const Credential& rejected) {
  if (rejected.secret != credential_.secret) {
    co_return credential_;
  }
  rejected_.store(true);
  const std::string how = credential_.kind == CredentialKind::kOAuth
                              ? "it cannot be refreshed; create a new one with `claude setup-token`"
                              : "check the key in the Anthropic console";
  co_return Error{ErrorKind::kUpstreamAuthentication,
                  "Anthropic rejected the credential from " + variable_ + ": " + how,
                  {},
                  {}};
}

nlohmann::json StaticCredentialSource::Status() const {
  return {{"source", "environment"},
          {"variable", variable_},
          {"kind", credential_.kind == CredentialKind::kOAuth ? "oauth" : "api_key"},
          {"refreshable", false},
          {"rejected_by_upstream", rejected_.load()}};
}

NoCredentialSource::NoCredentialSource(std::string message) : message_(std::move(message)) {}

Awaitable<Result<Credential>> NoCredentialSource::Current() {
  co_return Error{ErrorKind::kCredentialUnavailable, message_, {}, {}};
}

Awaitable<Result<Credential>> NoCredentialSource::OnRejected(const Credential& /*rejected*/) {
  co_return Error{ErrorKind::kCredentialUnavailable, message_, {}, {}};
}

nlohmann::json NoCredentialSource::Status() const {
  return {{"source", "none"}, {"error", message_}};
}

}  // namespace claudegate::credentials
