#include "support/test_gateway.hpp"

#include <spdlog/spdlog.h>

#include "support/fake_credentials.hpp"

namespace claudegate::testing {

config::Config TestConfig() {
  config::Config config;
  config.master_key = kTestMasterKey;
  config.host = "127.0.0.1";
  config.port = 0;
  config.limits.shutdown_grace = std::chrono::seconds(5);
  // One attempt per request, so that a scripted failure reaches the client as scripted; the
  // retry tests (integration/retries_test.cpp) turn retries on with tiny delays.
  config.retries.num_retries = 0;
  // No stored responses unless a test turns them on with a data directory of its own
  // (support/temp_dir.hpp): never the user's home.
  config.store.enabled = false;
  return config;
}

TestGateway::TestGateway(config::Config config, const CredentialFactory& factory, unsigned threads)
    : TestGateway(std::move(config), nullptr, threads, &factory) {}

TestGateway::TestGateway(config::Config config,
                         std::shared_ptr<credentials::CredentialSource> credentials,
                         unsigned threads)
    : TestGateway(std::move(config), std::move(credentials), threads, nullptr) {}

TestGateway::TestGateway(config::Config config,
                         std::shared_ptr<credentials::CredentialSource> credentials,
                         unsigned threads, const CredentialFactory* factory)
    : config_(std::make_unique<config::Config>(std::move(config))) {
  // Everything the gateway can log, so scripts/check-secrets sees the most verbose logs.
  spdlog::set_level(spdlog::level::debug);
  auto upstream = upstream::UpstreamClient::Create(config_->upstream);
  if (!upstream) {
    throw ErrorException(upstream.error());
  }
  upstream_ = std::move(*upstream);
  if (factory != nullptr) {
    credentials = (*factory)(io_, *upstream_);
  }
  if (!credentials) {
    credentials = std::make_shared<FakeCredentials>(
        credentials::Credential{credentials::CredentialKind::kOAuth, "sk-ant-oat01-test-token"});
  }
  gateway_ = std::make_unique<Gateway>(io_, *config_, std::move(credentials), *upstream_);
  std::vector<net::io_context*> workers{&io_};
  for (unsigned i = 1; i < threads; ++i) {
    workers.push_back(more_io_.emplace_back(std::make_unique<net::io_context>(1)).get());
  }
  gateway_->SpreadConnectionsOver(workers);
  auto endpoint = gateway_->Start();
  if (endpoint.has_error()) {
    throw ErrorException(endpoint.error());
  }
  port_ = endpoint->port();
  for (net::io_context* worker : workers) {
    threads_.emplace_back([worker] {
      auto guard = net::make_work_guard(*worker);  // idle workers wait for connections
      worker->run();
    });
  }
}

std::shared_future<void> TestGateway::BeginShutdown() {
  if (!shutdown_) {
    auto done = std::make_shared<std::promise<void>>();
    shutdown_ = done->get_future().share();
    gateway_->Shutdown([done] { done->set_value(); });
  }
  return *shutdown_;
}

TestGateway::~TestGateway() {
  auto done = BeginShutdown();
  // Bounded: the grace period plus a margin; then stop regardless.
  done.wait_for(config_->limits.shutdown_grace + std::chrono::seconds(5));
  io_.stop();
  for (auto& worker : more_io_) {
    worker->stop();
  }
  for (auto& thread : threads_) {
    thread.join();
  }
  std::vector<net::io_context*> contexts{&io_};
  for (auto& worker : more_io_) {
    contexts.push_back(worker.get());
  }
  server::DrainStoppedContexts(contexts);
}

}  // namespace claudegate::testing
