/// @file run_sync.hpp
/// Runs one coroutine to completion on a private io_context, for filter-level tests of code that is
/// written as coroutines but does no I/O of its own (middleware, handlers over a recording sink).
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "claudegate/net.hpp"

namespace claudegate::testing {

/// The coroutine's result; rethrows what it threw. The 20 s limit only bounds a hung coroutine.
template <typename T>
T RunSync(Awaitable<T> awaitable) {
  net::io_context ioc;
  std::optional<T> result;
  std::exception_ptr error;
  net::co_spawn(ioc, std::move(awaitable), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) {
      result.emplace(std::move(value));
    }
  });
  ioc.run_for(std::chrono::seconds(20));
  if (error) {
    std::rethrow_exception(error);
  }
  if (!result) {
    throw std::runtime_error("the coroutine did not complete within 20 s");
  }
  return std::move(*result);
}

}  // namespace claudegate::testing
