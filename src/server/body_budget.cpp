#include "claudegate/server/body_budget.hpp"

namespace claudegate::server {

bool BodyBudget::Reservation::Cover(std::size_t total) {
  if (total <= held_) {
    return true;
  }
  if (!budget_->TryTake(total - held_)) {
    return false;
  }
  held_ = total;
  return true;
}

bool BodyBudget::TryTake(std::size_t bytes) {
  std::size_t current = in_use_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ || current > limit_ - bytes) {
      return false;
    }
  } while (!in_use_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
  return true;
}

}  // namespace claudegate::server
