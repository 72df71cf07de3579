// Runs the real Gateway in-process on 127.0.0.1:0 with its own io threads, exactly as main() wires
// it, and shuts it down gracefully on destruction (bounded).
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "claudegate/config/config.hpp"
#include "claudegate/gateway.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace claudegate::testing {

inline const std::string kTestMasterKey = "sk-test-0123456789abcdef0123456789abcdef";

/// A config for tests: loopback, port 0, the test key.
config::Config TestConfig();

/// Builds a credential source that needs the gateway's io_context and upstream client (e.g. the
/// refreshing file source with the real HTTPS token endpoint).
using CredentialFactory = std::function<std::shared_ptr<credentials::CredentialSource>(
    net::io_context& io, upstream::UpstreamClient& client)>;

class TestGateway {
 public:
  explicit TestGateway(config::Config config,
                       std::shared_ptr<credentials::CredentialSource> credentials = nullptr,
                       unsigned threads = 2);
  TestGateway(config::Config config, const CredentialFactory& factory, unsigned threads = 2);
  ~TestGateway();
  TestGateway(const TestGateway&) = delete;
  TestGateway& operator=(const TestGateway&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const Gateway& gateway() const { return *gateway_; }
  [[nodiscard]] const config::Config& config() const { return *config_; }
  /// The gateway's upstream client (its pool can be inspected).
  [[nodiscard]] const upstream::UpstreamClient& upstream() const { return *upstream_; }
  /// The gateway's live metrics (gauges and counters can be read directly).
  [[nodiscard]] metrics::GatewayMetrics& metrics() const { return gateway_->metrics(); }

  /// Starts a graceful shutdown; the returned future is ready when every connection has closed.
  std::shared_future<void> BeginShutdown();

 private:
  TestGateway(config::Config config, std::shared_ptr<credentials::CredentialSource> credentials,
              unsigned threads, const CredentialFactory* factory);

  std::unique_ptr<config::Config> config_;
  // Declared before the client: pooled upstream sockets must be destroyed while their
  // io_context still exists.
  // As in main(): one io_context per thread, connections dealt round-robin; io_ also runs the
  // listener.
  net::io_context io_{1};
  std::vector<std::unique_ptr<net::io_context>> more_io_;
  std::unique_ptr<upstream::UpstreamClient> upstream_;
  std::unique_ptr<Gateway> gateway_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  std::optional<std::shared_future<void>> shutdown_;
};

}  // namespace claudegate::testing
