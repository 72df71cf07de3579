/// @file poll.hpp
/// Waiting for a state another process or thread reaches without telling anyone: a key's spend
/// charged after its reply went out, a ledger row recorded, a reload in a running daemon. Checks
/// `done` every 10 ms until it holds, for at most `timeout` (always bounded). Use an event
/// instead wherever the code under test offers one.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace claudegate::testing {

inline bool PollUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  constexpr std::chrono::milliseconds kInterval{10};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kInterval);
  }
}

}  // namespace claudegate::testing
