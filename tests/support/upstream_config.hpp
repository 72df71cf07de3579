// A gateway test config pointed at a FakeUpstream, trusting the test CA (verification stays on).
#pragma once

#include "claudegate/config/config.hpp"

#include "support/fake_upstream.hpp"
#include "support/test_gateway.hpp"

namespace claudegate::testing {

inline config::Config ConfigFor(const FakeUpstream& upstream) {
  auto config = TestConfig();
  config.upstream.base_url = upstream.base_url();
  config.upstream.ssl_cert_file = SharedTestCerts().ca_file;
  return config;
}

}  // namespace claudegate::testing
