#include "claudegate/server/connection_tracker.hpp"

#include <algorithm>
#include <vector>

#include <malloc.h>

namespace claudegate::server {
namespace {

// Bursts smaller than this leave too little behind to be worth a trim.
constexpr std::size_t kTrimAfterBurst = 256;

}  // namespace

std::optional<ConnectionTracker::Registration> ConnectionTracker::TryRegister(Closer closer,
                                                                              std::string client) {
  Closer victim;
  std::optional<Registration> registration;
  {
    const std::lock_guard lock(mutex_);
    if (draining_) {
      return std::nullopt;
    }
    // Over the client's own share, only its own idle connections make room; otherwise the
    // oldest idle connection of anyone.
    const bool client_full =
        !client.empty() && per_client_.contains(client) && per_client_[client] >= max_per_client_;
    if (client_full || closers_.size() >= max_connections_) {
      const auto oldest_idle =
          std::find_if(closers_.begin(), closers_.end(), [&](const auto& entry) {
            return entry.second.idle && (!client_full || entry.second.client == client);
          });
      if (oldest_idle == closers_.end()) {
        return std::nullopt;
      }
      // Not idle any more as far as eviction goes: it is on its way out.
      oldest_idle->second.idle = false;
      victim = oldest_idle->second.closer;
    }
    const std::uint64_t id = next_id_++;
    if (!client.empty()) {
      ++per_client_[client];
    }
    closers_.emplace(id, Entry{std::move(closer), true, std::move(client)});
    burst_peak_ = std::max(burst_peak_, closers_.size());
    registration.emplace(this, id);
  }
  if (victim) {
    victim(false);  // closes it only if it is still idle on its own strand
  }
  return registration;
}

void ConnectionTracker::SetIdle(std::uint64_t id, bool idle) {
  const std::lock_guard lock(mutex_);
  if (const auto it = closers_.find(id); it != closers_.end()) {
    it->second.idle = idle;
  }
}

void ConnectionTracker::Unregister(std::uint64_t id) {
  std::function<void()> drained;
  bool trim = false;
  {
    const std::lock_guard lock(mutex_);
    if (const auto it = closers_.find(id); it != closers_.end()) {
      if (!it->second.client.empty()) {
        if (const auto count = per_client_.find(it->second.client);
            count != per_client_.end() && --count->second == 0) {
          per_client_.erase(count);
        }
      }
      closers_.erase(it);
    }
    if (draining_ && closers_.empty() && on_drained_) {
      drained = std::exchange(on_drained_, nullptr);
    }
    // After a burst of connections closes, glibc keeps the freed stream buffers in its arenas
    // (RSS stayed at the burst's peak). Hand them back once the count is down to a quarter of
    // the peak, and again when it reaches zero; rare enough that the trim's cost is irrelevant.
    if (burst_peak_ >= kTrimAfterBurst) {
      if (closers_.empty()) {
        trim = true;
        burst_peak_ = 0;
        trimmed_at_quarter_ = false;
      } else if (!trimmed_at_quarter_ && closers_.size() <= burst_peak_ / 4) {
        trim = true;
        trimmed_at_quarter_ = true;
      }
    } else if (closers_.empty()) {
      burst_peak_ = 0;
    }
  }
  if (trim) {
    malloc_trim(0);
  }
  if (drained) {
    drained();
  }
}

void ConnectionTracker::BeginShutdown(std::function<void()> on_drained) {
  std::vector<Closer> to_notify;
  {
    const std::lock_guard lock(mutex_);
    draining_ = true;
    if (closers_.empty()) {
      on_drained_ = nullptr;
    } else {
      on_drained_ = std::move(on_drained);
      for (const auto& [id, entry] : closers_) {
        to_notify.push_back(entry.closer);
      }
    }
  }
  if (to_notify.empty() && on_drained) {
    on_drained();
    return;
  }
  // Closers only post to their strands, so calling them outside the lock cannot deadlock.
  for (const auto& closer : to_notify) {
    closer(false);
  }
}

void ConnectionTracker::ForceCloseAll() {
  std::vector<Closer> to_notify;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : closers_) {
      to_notify.push_back(entry.closer);
    }
  }
  for (const auto& closer : to_notify) {
    closer(true);
  }
}

bool ConnectionTracker::draining() const {
  const std::lock_guard lock(mutex_);
  return draining_;
}

std::size_t ConnectionTracker::active() const {
  const std::lock_guard lock(mutex_);
  return closers_.size();
}

}  // namespace claudegate::server
