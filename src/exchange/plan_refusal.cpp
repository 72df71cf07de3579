#include "claudegate/exchange/plan_refusal.hpp"

#include <chrono>

#include "claudegate/anthropic/refusal.hpp"

namespace claudegate::exchange {

bool IsPlanRefusal(unsigned status, std::string_view body, const http::fields& headers) {
  using anthropic::RefusalKind;
  const auto refusal =
      anthropic::ClassifyHttpAnswer(status, headers, body, std::chrono::system_clock::now());
  switch (refusal.kind) {
    case RefusalKind::kModelLimit:
    case RefusalKind::kModelNotInPlan:
    case RefusalKind::kPlanLimit:
      return true;
    case RefusalKind::kFiveHourLimit:
    case RefusalKind::kWeeklyLimit:
      return beast::iequals(headers["anthropic-ratelimit-unified-fallback"], "available");
    default:
      return false;
  }
}

}  // namespace claudegate::exchange
