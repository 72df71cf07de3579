#include "worker.hpp"

#include <spdlog/spdlog.h>

namespace claudegate::store {

Worker::Worker() {
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // Jobs catch their own errors; this is a bug, but the store keeps serving.
        spdlog::error("bug: a store job threw: {}", e.what());
      }
    }
  });
}

Worker::~Worker() { Stop(); }

void Worker::Stop() {
  guard_.reset();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace claudegate::store
