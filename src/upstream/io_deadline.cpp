#include "claudegate/upstream/io_deadline.hpp"

namespace claudegate::upstream {

using Clock = std::chrono::steady_clock;

struct IoDeadline::State {
  explicit State(tcp::socket& s) : timer(s.get_executor()), socket(&s) {}

  net::steady_timer timer;
  tcp::socket* socket;
  Clock::time_point deadline = Clock::time_point::max();  // max: no operation is bounded
  int waits = 0;  // timer waits not yet completed (a cancelled one still runs its handler)
  bool expired = false;
};

IoDeadline::IoDeadline(tcp::socket& socket) : state_(std::make_shared<State>(socket)) {}

// Destroying the state destroys the timer, which cancels its wait; the handler then finds the
// weak pointer expired.
IoDeadline::~IoDeadline() = default;

void IoDeadline::Start(std::chrono::milliseconds timeout) {
  State& s = *state_;
  s.expired = false;
  s.deadline = Clock::now() + timeout;
  // A pending wait that ends at or before the new deadline re-arms itself for the remainder
  // (OnTimer); only a deadline earlier than the pending expiry needs the timer moved.
  if (s.waits == 0 || s.timer.expiry() > s.deadline) {
    s.timer.expires_at(s.deadline);  // cancels the pending wait, if any
    Wait(state_);
  }
}

void IoDeadline::Stop() { state_->deadline = Clock::time_point::max(); }

bool IoDeadline::expired() const { return state_->expired; }

void IoDeadline::Wait(const std::shared_ptr<State>& state) {
  ++state->waits;
  state->timer.async_wait(
      [weak = std::weak_ptr<State>(state)](const error_code& ec) { OnTimer(weak, ec); });
}

void IoDeadline::OnTimer(const std::weak_ptr<State>& weak, const error_code& ec) {
  const auto state = weak.lock();
  if (!state) {
    return;  // the connection is gone
  }
  State& s = *state;
  --s.waits;
  // Cancelled (moved by Start), superseded by a newer wait, or no operation running: nothing to
  // do. Only the last case may happen while the connection idles in the pool, and it touches
  // nothing but this state.
  if (ec || s.waits > 0 || s.deadline == Clock::time_point::max()) {
    return;
  }
  if (Clock::now() < s.deadline) {
    s.timer.expires_at(s.deadline);  // the deadline moved on since this wait began
    Wait(state);
    return;
  }
  s.expired = true;
  // Cancels the operation's pending wait or read; it completes with operation_aborted and its
  // caller sees expired().
  error_code ignored;
  s.socket->cancel(ignored);
}

}  // namespace claudegate::upstream
