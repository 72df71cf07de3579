/// @file plan_refusal.hpp
/// Whether Anthropic refused a request because of the subscription plan, so that another model
/// (`fallbacks`) may still answer: a 429 with `anthropic-ratelimit-unified-status: rejected` (a
/// window of the plan is exhausted, possibly only for this model: `seven_day_opus`), or the 400
/// "invalid model name" a Pro plan gets for Opus (docs/anthropic-notes.md, "Retries and
/// fallbacks"). A small predicate on purpose: the refusal classifier of issue #16 part 4 replaces
/// it.
#pragma once

#include <string_view>

#include "claudegate/net.hpp"

namespace claudegate::exchange {

/// True when the answer (`status`, its body and headers) is a plan refusal.
[[nodiscard]] bool IsPlanRefusal(unsigned status, std::string_view body,
                                 const http::fields& headers);

}  // namespace claudegate::exchange
