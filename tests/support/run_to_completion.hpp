/// @file run_to_completion.hpp
/// Runs a client coroutine on a caller's io_context (which may also run servers or timers) until
/// it finishes, bounded, reporting an exception it threw as a test failure.
#pragma once

#include <chrono>
#include <exception>
#include <utility>

#include <gtest/gtest.h>

#include "claudegate/net.hpp"

namespace claudegate::testing {

/// True when `task` finished within `limit` (a safety bound, not a timing assertion: keep it
/// generous for ASan on a loaded machine) without throwing.
inline bool RunToCompletion(net::io_context& io, Awaitable<void> task,
                            std::chrono::steady_clock::duration limit = std::chrono::seconds(60)) {
  bool done = false;
  net::co_spawn(io, std::move(task), [&done](const std::exception_ptr& error) {
    done = true;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "coroutine threw: " << e.what();
      }
    }
  });
  io.run_for(limit);
  return done;
}

}  // namespace claudegate::testing
