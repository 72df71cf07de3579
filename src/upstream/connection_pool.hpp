// The bounded pool of idle keep-alive connections to one upstream. Private to the client.
//
// Sized to hold every connection's upstream connection (docs/configuration.md,
// upstream.max_idle_connections): a pool smaller than the concurrency opens a new TLS connection
// for every request past it. A large pool costs nothing when idle: connections idle longer than
// the idle timeout are closed by CloseExpired(), which Take and Return call and the gateway runs
// periodically.
#pragma once

#include <deque>
#include <memory>
#include <mutex>

#include "claudegate/upstream/upstream_connection.hpp"

namespace claudegate::upstream {

class ConnectionPool {
 public:
  ConnectionPool(std::size_t max_idle, std::chrono::milliseconds idle_timeout)
      : max_idle_(max_idle), idle_timeout_(idle_timeout) {}

  /// A live idle connection opened on `home` (the execution context its socket is bound to),
  /// most recently used first (warmest TCP window), or null. With one io_context per thread, a
  /// socket must not move to a coroutine on another thread.
  std::unique_ptr<UpstreamConnection> Take(const void* home) {
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    CloseExpiredLocked(now);
    for (auto it = idle_.end(); it != idle_.begin();) {
      --it;
      if (it->home != home) {
        continue;
      }
      auto connection = std::move(it->connection);
      it = idle_.erase(it);
      if (now - connection->idle_since < idle_timeout_ && connection->LooksAlive()) {
        connection->reused = true;
        return connection;
      }
      connection->Close();
    }
    return nullptr;
  }

  /// Gives a connection (opened on `home`) back; closes the oldest when the pool is full.
  void Return(std::unique_ptr<UpstreamConnection> connection, const void* home) {
    connection->idle_since = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    CloseExpiredLocked(connection->idle_since);
    if (max_idle_ == 0) {
      connection->Close();
      return;
    }
    if (idle_.size() >= max_idle_) {
      // Drop the oldest: it is the likeliest to have been closed by the server.
      idle_.front().connection->Close();
      idle_.pop_front();
    }
    idle_.push_back(Idle{home, std::move(connection)});
  }

  /// Closes every connection idle longer than the idle timeout. Any thread: an idle connection has
  /// no operation outstanding, so closing it from another thread than its home is safe.
  void CloseExpired() {
    const std::lock_guard lock(mutex_);
    CloseExpiredLocked(std::chrono::steady_clock::now());
  }

  [[nodiscard]] std::size_t idle() const {
    const std::lock_guard lock(mutex_);
    return idle_.size();
  }

 private:
  // The deque is in the order connections came back, oldest first.
  void CloseExpiredLocked(std::chrono::steady_clock::time_point now) {
    while (!idle_.empty() && now - idle_.front().connection->idle_since >= idle_timeout_) {
      idle_.front().connection->Close();
      idle_.pop_front();
    }
  }

  const std::size_t max_idle_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  struct Idle {
    const void* home;
    std::unique_ptr<UpstreamConnection> connection;
  };
  std::deque<Idle> idle_;
};

}  // namespace claudegate::upstream
