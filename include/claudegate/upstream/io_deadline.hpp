/// @file io_deadline.hpp
/// One watchdog timer per upstream connection that bounds its current operation: when the
/// deadline passes, every pending operation on the socket is cancelled and `expired()` turns true.
///
/// It replaces a timer and a `||` parallel group (two coroutine frames) per read and per write
/// (docs/performance.md, "Remaining ideas", 5). Like Beast's `basic_stream`, the timer is not
/// re-armed for every operation: `Start` only moves the deadline, and the timer, when it fires
/// before the deadline, waits again for the remainder. An operation that ends before its deadline
/// therefore costs no timer system call at all.
///
/// Single-threaded: `Start`/`Stop` and the operations they bound run on the connection's home
/// executor; the timer's handler is dispatched there too. An idle connection may be destroyed
/// from another thread (the pool's sweep): the pending wait then finds its state gone and does
/// nothing.
#pragma once

#include <chrono>
#include <memory>

#include "claudegate/net.hpp"

namespace claudegate::upstream {

class IoDeadline {
 public:
  /// `socket` must outlive this object; its executor runs the timer.
  explicit IoDeadline(tcp::socket& socket);
  ~IoDeadline();
  IoDeadline(const IoDeadline&) = delete;
  IoDeadline& operator=(const IoDeadline&) = delete;

  /// Bounds the operation about to start by `timeout` from now, and clears `expired()`.
  void Start(std::chrono::milliseconds timeout);
  /// The operation ended; no deadline until the next `Start`.
  void Stop();
  /// True once the current deadline passed (the socket's operations were cancelled then). An
  /// operation must not start a new wait once this is true.
  [[nodiscard]] bool expired() const;

 private:
  struct State;
  static void Wait(const std::shared_ptr<State>& state);
  static void OnTimer(const std::weak_ptr<State>& weak, const error_code& ec);

  std::shared_ptr<State> state_;
};

}  // namespace claudegate::upstream
