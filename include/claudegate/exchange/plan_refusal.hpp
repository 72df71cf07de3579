/// @file plan_refusal.hpp
/// Whether Anthropic refused a request for a plan reason that another model (`fallbacks`) may not
/// share, read with the refusal classifier (anthropic/refusal.hpp,
/// docs/anthropic-notes.md#refusals):
///
/// - a model-scoped window is used up (`seven_day_opus`, ...), or the plan does not include the
///   model (the Pro plan's "invalid model name" for Opus): another model is the point;
/// - a window that could not be told apart (`status: rejected` without a named claim): worth one
///   try on the next model;
/// - the plan's 5-hour or weekly window: only when Anthropic says a fallback model is allowed
///   (`anthropic-ratelimit-unified-fallback: available`); otherwise every model is refused alike
///   and a fallback would only spend another request.
#pragma once

#include <string_view>

#include "claudegate/net.hpp"

namespace claudegate::exchange {

/// True when the answer (`status`, its body and headers) is such a plan refusal.
[[nodiscard]] bool IsPlanRefusal(unsigned status, std::string_view body,
                                 const http::fields& headers);

}  // namespace claudegate::exchange
