#include "claudegate/exchange/plan_refusal.hpp"

namespace claudegate::exchange {

bool IsPlanRefusal(unsigned status, std::string_view body, const http::fields& headers) {
  if (status == 429) {
    return beast::iequals(headers["anthropic-ratelimit-unified-status"], "rejected");
  }
  // Claude Code maps this answer to "Claude Opus is not available with the Claude Pro plan".
  return status == 400 && body.find("invalid model name") != std::string_view::npos;
}

}  // namespace claudegate::exchange
