/// @file connection_tracker.hpp
/// Counts open connections against the limit and drives graceful shutdown: every session registers
/// a closer; on shutdown idle sessions are closed at once, busy ones finish their request, and
/// after the grace period every remaining one is closed by force.
///
/// At the limit, a new connection is still admitted when some registered connection is idle: the
/// oldest idle one is asked to close instead. "Idle" means holding no authenticated request:
/// between requests on keep-alive, connected without a byte, still sending a header, or being
/// answered from its header alone (a 401, a health probe). So neither idle nor half-sent requests
/// can lock a real client out (docs/security.md); only a connection whose request carried the
/// master key is busy and never evicted. Because the victim closes on its own strand (and stays
/// open if it turned busy meanwhile), the count may briefly exceed the limit.
///
/// Per client (the key passed to `TryRegister`, e.g. the peer address) at most
/// `max_per_client` connections are open: beyond that the client's own oldest idle connection
/// is evicted, or the new one refused when all of its connections are busy. So one address
/// cannot fill the table, nor evict everyone else's idle connections by connecting in a loop.
///
/// Thread-safe: sessions on different strands register and unregister concurrently.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace claudegate::server {

class ConnectionTracker {
 public:
  /// Called (from any thread) to close a connection; `force` closes even a busy one. The callee
  /// must post to its own strand.
  using Closer = std::function<void(bool force)>;

  /// `max_per_client`: connections one client key may hold; 0 = the default, a quarter of
  /// `max_connections` but at least kMinDefaultPerClient.
  explicit ConnectionTracker(std::size_t max_connections, std::size_t max_per_client = 0)
      : max_connections_(max_connections),
        max_per_client_(max_per_client != 0 ? max_per_client
                                            : std::max(kMinDefaultPerClient, max_connections / 4)) {
  }

  /// The default share is never below this: it covers a client's whole connection pool (the
  /// OpenAI and Anthropic SDKs keep up to 100 connections alive) and every local tool sharing
  /// 127.0.0.1 or a Docker bridge address, even with a small `max_connections`.
  static constexpr std::size_t kMinDefaultPerClient = 256;

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

  /// Registers a connection of `client`, or returns nullopt when shutting down or at a limit
  /// with no idle connection to evict. An empty `client` is not limited per client (a trusted
  /// reverse proxy speaks for many clients).
  std::optional<Registration> TryRegister(Closer closer, std::string client = {});

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
    std::string client;
  };

  void Unregister(std::uint64_t id);
  void SetIdle(std::uint64_t id, bool idle);

  const std::size_t max_connections_;
  const std::size_t max_per_client_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Entry> closers_;                   ///< By id, so oldest first.
  std::unordered_map<std::string, std::size_t> per_client_;  ///< Open connections per client.
  std::uint64_t next_id_ = 0;
  bool draining_ = false;
  std::function<void()> on_drained_;
  std::size_t burst_peak_ = 0;  // most connections open since the count was last zero
  bool trimmed_at_quarter_ = false;
};

}  // namespace claudegate::server
