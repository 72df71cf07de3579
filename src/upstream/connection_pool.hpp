// The bounded pool of idle keep-alive connections to one upstream. Private to the client.
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
    if (idle_.size() >= max_idle_) {
      // Drop the oldest: it is the likeliest to have been closed by the server.
      idle_.front().connection->Close();
      idle_.pop_front();
    }
    idle_.push_back(Idle{home, std::move(connection)});
  }

 private:
  const std::size_t max_idle_;
  const std::chrono::milliseconds idle_timeout_;
  std::mutex mutex_;
  struct Idle {
    const void* home;
    std::unique_ptr<UpstreamConnection> connection;
  };
  std::deque<Idle> idle_;
};

}  // namespace claudegate::upstream
