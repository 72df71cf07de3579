// One dedicated thread that runs a store's database work, in order, and hands results back to the
// awaiting coroutine on that coroutine's own executor. Private to src/store; the database
// connection lives on this thread only, so no io thread ever waits on the disk.
#pragma once

#include <exception>
#include <thread>
#include <type_traits>
#include <utility>

#include "claudegate/net.hpp"

namespace claudegate::store {

namespace detail {
template <typename R>
struct CompletionOf {
  using type = void(R);
};
template <>
struct CompletionOf<void> {
  using type = void();
};
}  // namespace detail

class Worker {
 public:
  Worker();
  /// Stop().
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  [[nodiscard]] net::io_context::executor_type executor() { return io_.get_executor(); }

  /// Lets the jobs already posted finish, then joins the thread. Jobs posted later never run
  /// (a coroutine awaiting one is destroyed with the io_context). Idempotent; not from the
  /// worker thread itself.
  void Stop();

  /// Runs `job()` (which must not throw) on the worker and resumes the caller with its result on
  /// the caller's executor.
  template <typename R, typename F>
  Awaitable<R> Run(F job) {
    using Signature = typename detail::CompletionOf<R>::type;
    return net::async_initiate<const net::use_awaitable_t<>&, Signature>(
        [this](auto handler, F work) {
          auto back = net::make_work_guard(handler);  // the caller's executor stays alive
          net::post(io_, [work = std::move(work), handler = std::move(handler),
                          back = std::move(back)]() mutable {
            auto home = back.get_executor();
            if constexpr (std::is_void_v<R>) {
              work();
              net::post(home, std::move(handler));
            } else {
              net::post(home, [handler = std::move(handler), result = work()]() mutable {
                std::move(handler)(std::move(result));
              });
            }
          });
        },
        net::use_awaitable, std::move(job));
  }

 private:
  net::io_context io_{1};
  net::executor_work_guard<net::io_context::executor_type> guard_{io_.get_executor()};
  std::thread thread_;
};

}  // namespace claudegate::store
