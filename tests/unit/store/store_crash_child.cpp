// The process store_crash_test.cpp kills: opens the store in argv[1] and saves turns without end
// (each 3 inputs + 2 outputs), flushing every 100 and printing "flushed <count>" once they are on
// disk, and "queued <count>" every 10 turns in between, until the parent sends SIGKILL while the
// store's worker is writing.
#include <cstdio>
#include <string>

#include <spdlog/spdlog.h>

#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/store/make_store.hpp"
#include "claudegate/store/unavailable_store.hpp"

using namespace claudegate;  // NOLINT(google-build-using-namespace): a test program's main

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // stdout carries only the "flushed" lines
  config::Store settings;
  settings.data_dir = argv[1];
  settings.max_queued_writes = 100000;
  const config::ModelCatalog catalog(config::ModelCatalog::DefaultAliases());
  metrics::GatewayMetrics metrics(catalog);
  auto store = store::MakeResponseStore(settings, metrics, store::SystemUnixClock());
  if (dynamic_cast<store::UnavailableResponseStore*>(store.get()) != nullptr) {
    std::fprintf(stderr, "the store did not open\n");
    return 1;
  }
  const std::string text(2000, 'y');
  net::io_context io;
  for (int i = 0; i < 1'000'000; ++i) {
    const std::string id = "resp_" + std::to_string(i);
    std::optional<std::string> previous;
    if (i > 0) {
      previous = "resp_" + std::to_string(i - 1);
    }
    nlohmann::json response = {{"id", id},
                               {"created_at", store::SystemUnixClock()()},
                               {"output", nlohmann::json::array()}};
    nlohmann::json input_items = nlohmann::json::array();
    for (int k = 0; k < 3; ++k) {
      input_items.push_back(
          {{"id", id + "_in" + std::to_string(k)}, {"type", "message"}, {"content", text}});
    }
    for (int k = 0; k < 2; ++k) {
      response["output"].push_back(
          {{"id", id + "_out" + std::to_string(k)}, {"type", "message"}, {"content", text}});
    }
    store->Save(store::MakeStoredResponse(response, input_items, std::move(previous)));
    if ((i + 1) % 10 == 0 && (i + 1) % 100 != 0) {
      std::printf("queued %d\n", i + 1);  // the worker is writing these now
      std::fflush(stdout);
    }
    if ((i + 1) % 100 == 0) {
      net::co_spawn(io, store->Flush(), net::detached);
      io.restart();
      io.run();
      std::printf("flushed %d\n", i + 1);
      std::fflush(stdout);
    }
  }
  return 0;
}
