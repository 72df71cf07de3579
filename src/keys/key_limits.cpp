#include "claudegate/keys/key_limits.hpp"

#include <algorithm>
#include <cstdio>

namespace claudegate::keys {
namespace {

constexpr std::int64_t kWindowSeconds = 60;

std::size_t Slot(std::int64_t second) {
  return static_cast<std::size_t>(((second % kWindowSeconds) + kWindowSeconds) % kWindowSeconds);
}

// "key 'ci-bot'" or "this key" when it has no alias: a refusal names the key the way its owner
// named it, never by its secret.
std::string KeyLabel(const store::KeyRecord& key) {
  return key.alias ? "key '" + *key.alias + "'" : "this key (" + key.key_name + ")";
}

std::string Usd(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "$%.4f", value);
  return text;
}

KeyRefusal RateLimited(std::string message, std::string details, std::int64_t retry_after) {
  return {Error(ErrorKind::kRateLimited, std::move(message), {}, "rate_limit_exceeded"),
          std::move(details), retry_after};
}

}  // namespace

void MinuteWindow::Advance(std::int64_t now) {
  if (now <= newest_) {
    return;  // same second (or a clock step back: keep counting into the newest bucket)
  }
  if (now - newest_ >= kWindowSeconds) {
    buckets_.fill(0);
  } else {
    for (std::int64_t second = newest_ + 1; second <= now; ++second) {
      buckets_[Slot(second)] = 0;
    }
  }
  newest_ = now;
}

void MinuteWindow::Add(std::int64_t now, std::int64_t amount) {
  Advance(now);
  buckets_[Slot(newest_)] += amount;
}

std::int64_t MinuteWindow::Total(std::int64_t now) {
  Advance(now);
  std::int64_t total = 0;
  for (const auto count : buckets_) {
    total += count;
  }
  return total;
}

std::int64_t MinuteWindow::SecondsUntilBelow(std::int64_t limit, std::int64_t now) {
  std::int64_t total = Total(now);
  // The oldest bucket leaves the window first: after k seconds the k oldest are gone.
  for (std::int64_t k = 1; k <= kWindowSeconds; ++k) {
    total -= buckets_[Slot(newest_ - kWindowSeconds + k)];
    if (total < limit) {
      return k;
    }
  }
  return kWindowSeconds;
}

bool ResetBudgetIfDue(store::KeyRecord& key, std::int64_t now) {
  if (!key.budget_duration || *key.budget_duration <= 0) {
    return false;
  }
  if (!key.budget_reset_at) {
    key.budget_reset_at = key.created_at + *key.budget_duration;
  }
  if (now < *key.budget_reset_at) {
    return false;
  }
  // Periods follow each other from the key's creation, however long nobody used it.
  const std::int64_t missed = (now - *key.budget_reset_at) / *key.budget_duration + 1;
  key.budget_reset_at = *key.budget_reset_at + missed * *key.budget_duration;
  key.spend = 0;
  return true;
}

std::optional<KeyRefusal> CheckStanding(const store::KeyRecord& key, std::int64_t now) {
  if (key.blocked) {
    return KeyRefusal{Error(ErrorKind::kPermission,
                            "The API key " + key.key_name +
                                " is blocked. The gateway's administrator can unblock it with "
                                "POST /key/update {\"key\": ..., \"blocked\": false}.",
                            {}, "key_blocked"),
                      "key_blocked", std::nullopt};
  }
  if (key.expires_at && now >= *key.expires_at) {
    return KeyRefusal{Error(ErrorKind::kAuthentication,
                            "The API key " + key.key_name +
                                " has expired. Ask the gateway's administrator for a new key or "
                                "a later 'expires' (POST /key/update).",
                            {}, "key_expired"),
                      "key_expired", std::nullopt};
  }
  return std::nullopt;
}

bool AllowsModel(const store::KeyRecord& key, std::string_view requested,
                 std::string_view resolved) {
  if (key.models.empty()) {
    return true;
  }
  return std::any_of(key.models.begin(), key.models.end(), [&](const std::string& allowed) {
    return allowed == "all-proxy-models" || allowed == requested ||
           (!resolved.empty() && allowed == resolved);
  });
}

std::optional<KeyRefusal> Admit(store::KeyRecord& key, KeyUsage& usage, std::int64_t now) {
  ResetBudgetIfDue(key, now);
  if (key.max_budget && key.spend >= *key.max_budget) {
    std::string message = "Budget exceeded for " + KeyLabel(key) + ": max_budget " +
                          Usd(*key.max_budget) + ", spend " + Usd(key.spend) + " (at API prices).";
    std::optional<std::int64_t> retry_after;
    if (key.budget_reset_at) {
      retry_after = std::max<std::int64_t>(1, *key.budget_reset_at - now);
      message += " The budget resets in " + std::to_string(*retry_after) + " s.";
    } else {
      message +=
          " It has no budget_duration, so it never resets: raise max_budget with "
          "POST /key/update.";
    }
    return KeyRefusal{Error(ErrorKind::kRateLimited, std::move(message), {}, "budget_exceeded"),
                      "key_budget", retry_after};
  }
  if (key.max_parallel_requests && usage.in_flight >= *key.max_parallel_requests) {
    return RateLimited("Too many parallel requests for " + KeyLabel(key) +
                           ": max_parallel_requests " + std::to_string(*key.max_parallel_requests) +
                           " are in flight; retry when one finishes.",
                       "key_parallel_limit", 1);
  }
  if (key.rpm_limit && usage.requests.Total(now) >= *key.rpm_limit) {
    const auto wait = usage.requests.SecondsUntilBelow(*key.rpm_limit, now);
    return RateLimited("Rate limit reached for " + KeyLabel(key) + ": rpm_limit " +
                           std::to_string(*key.rpm_limit) + " requests per minute; resets in " +
                           std::to_string(wait) + " s.",
                       "key_rpm_limit", wait);
  }
  if (key.tpm_limit && usage.tokens.Total(now) >= *key.tpm_limit) {
    const auto wait = usage.tokens.SecondsUntilBelow(*key.tpm_limit, now);
    return RateLimited("Rate limit reached for " + KeyLabel(key) + ": tpm_limit " +
                           std::to_string(*key.tpm_limit) + " tokens per minute; resets in " +
                           std::to_string(wait) + " s.",
                       "key_tpm_limit", wait);
  }
  ++usage.in_flight;
  usage.requests.Add(now, 1);
  return std::nullopt;
}

void Finish(store::KeyRecord& key, KeyUsage& usage, std::int64_t tokens, double cost,
            std::int64_t now) {
  usage.in_flight = std::max<std::int64_t>(0, usage.in_flight - 1);
  usage.tokens.Add(now, tokens);
  ResetBudgetIfDue(key, now);
  key.spend += cost;
}

}  // namespace claudegate::keys
