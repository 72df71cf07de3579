// A credential source for tests that need one but test something else: a fixed credential,
// counting how often it was asked for and rejected.
#pragma once

#include <atomic>

#include "claudegate/credentials/credential_source.hpp"

namespace claudegate::testing {

class FakeCredentials final : public credentials::CredentialSource {
 public:
  explicit FakeCredentials(credentials::Credential credential, bool ready = true)
      : credential_(std::move(credential)), ready_(ready) {}

  Awaitable<Result<credentials::Credential>> Current() override {
    ++current_calls;
    if (!ready_) {
      co_return Error{ErrorKind::kServiceUnavailable, "no credentials (test)", {}, {}};
    }
    co_return credential_;
  }
  Awaitable<Result<credentials::Credential>> OnRejected(
      const credentials::Credential& /*rejected*/) override {
    ++rejected_calls;
    co_return Error{ErrorKind::kUpstreamAuthentication, "rejected (test)", {}, {}};
  }
  [[nodiscard]] nlohmann::json Status() const override {
    return {{"source", "test"}, {"ready", ready_}};
  }
  [[nodiscard]] bool Ready() const override { return ready_; }

  std::atomic<int> current_calls{0};
  std::atomic<int> rejected_calls{0};

 private:
  credentials::Credential credential_;
  bool ready_;
};

}  // namespace claudegate::testing
