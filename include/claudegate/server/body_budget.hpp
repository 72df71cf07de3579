/// @file body_budget.hpp
/// Bounds the bytes of request bodies held across all connections at once.
///
/// Each request reserves its body before the session reads a byte of it: a declared
/// Content-Length whole, a chunked body as it arrives. A request that does not fit is answered
/// 503 with Retry-After instead of waiting: a waiting request would hold its connection and what
/// it had already reserved, so waiters could starve each other, and every SDK retries a 503.
/// Only clients that presented the master key get this far (the header gate refuses the others
/// first), so the budget protects the process from its owner's bursts and from a leaked key.
///
/// Thread-safe: sessions on every io thread reserve and release concurrently (one atomic).
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace claudegate::server {

class BodyBudget {
 public:
  /// `limit`: the most body bytes held at once.
  explicit BodyBudget(std::size_t limit) : limit_(limit) {}

  /// What one request holds; released on destruction. Used on one strand only.
  class Reservation {
   public:
    explicit Reservation(BodyBudget& budget) : budget_(&budget) {}
    Reservation(Reservation&& other) noexcept
        : budget_(other.budget_), held_(std::exchange(other.held_, 0)) {}
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    Reservation& operator=(Reservation&&) = delete;
    ~Reservation() { budget_->Release(held_); }

    /// Grows the reservation to cover `total` bytes. False (and unchanged) when the budget
    /// cannot cover it.
    [[nodiscard]] bool Cover(std::size_t total);

   private:
    BodyBudget* budget_;
    std::size_t held_ = 0;
  };

  [[nodiscard]] Reservation Start() { return Reservation(*this); }
  /// Body bytes reserved right now.
  [[nodiscard]] std::size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t limit() const { return limit_; }

 private:
  bool TryTake(std::size_t bytes);
  void Release(std::size_t bytes) {
    if (bytes > 0) {
      in_use_.fetch_sub(bytes, std::memory_order_relaxed);
    }
  }

  const std::size_t limit_;
  std::atomic<std::size_t> in_use_{0};
};

}  // namespace claudegate::server
