/// @file connection_tracker.hpp
/// Counts open connections against the limit and drives graceful shutdown: every session registers
/// a closer; on shutdown idle sessions are closed at once, busy ones finish their request, and
/// after the grace period every remaining one is closed by force.
///
/// At the limit, a new connection is still admitted when some registered connection is idle
/// (between requests on keep-alive, or connected without having sent a byte): the oldest idle one
/// is asked to close instead, so idle connections cannot lock a real client out for as long as
/// they keep being idle. Busy connections are never evicted. Because the victim closes on its own
/// strand (and stays open if it turned busy meanwhile), the count may briefly exceed the limit.
///
/// Thread-safe: sessions on different strands register and unregister concurrently.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace claudegate::server {

class ConnectionTracker {
 public:
  /// Called (from any thread) to close a connection; `force` closes even a busy one. The callee
  /// must post to its own strand.
  using Closer = std::function<void(bool force)>;

  explicit ConnectionTracker(std::size_t max_connections) : max_connections_(max_connections) {}

  /// RAII registration of one connection; unregisters on destruction.
  class Registration {
   public:
    Registration(ConnectionTracker* tracker, std::uint64_t id) : tracker_(tracker), id_(id) {}
    Registration(Registration&& other) noexcept
        : tracker_(std::exchange(other.tracker_, nullptr)), id_(other.id_) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    Registration& operator=(Registration&&) = delete;
    ~Registration() {
      if (tracker_ != nullptr) {
        tracker_->Unregister(id_);
      }
    }

    /// Marks the connection idle (may be evicted at the limit) or busy. New registrations are
    /// idle.
    void SetIdle(bool idle) { tracker_->SetIdle(id_, idle); }

   private:
    ConnectionTracker* tracker_;
    std::uint64_t id_;
  };

  /// Registers a connection, or returns nullopt when shutting down or at the limit with no idle
  /// connection to evict.
  std::optional<Registration> TryRegister(Closer closer);

  /// Stops admitting connections and asks idle ones to close. `on_drained` runs once (on an
  /// arbitrary thread) when the last connection is gone, possibly immediately.
  void BeginShutdown(std::function<void()> on_drained);
  /// Closes every remaining connection, busy or not.
  void ForceCloseAll();

  [[nodiscard]] bool draining() const;
  [[nodiscard]] std::size_t active() const;

 private:
  struct Entry {
    Closer closer;
    bool idle = true;
  };

  void Unregister(std::uint64_t id);
  void SetIdle(std::uint64_t id, bool idle);

  const std::size_t max_connections_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Entry> closers_;  ///< By id, so oldest first.
  std::uint64_t next_id_ = 0;
  bool draining_ = false;
  std::function<void()> on_drained_;
  std::size_t burst_peak_ = 0;  // most connections open since the count was last zero
  bool trimmed_at_quarter_ = false;
};

}  // namespace claudegate::server
