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

  /// A live idle connection, most recently used first (warmest TCP window), or null.
  std::unique_ptr<UpstreamConnection> Take() {
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (now - connection->idle_since < idle_timeout_ && connection->LooksAlive()) {
        connection->reused = true;
        return connection;
      }
      connection->Close();
    }
    return nullptr;
  }

  /// Gives a connection back; closes it when the pool is full.
  void Return(std::unique_ptr<UpstreamConnection> connection) {
    connection->idle_since = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    if (idle_.size() >= max_idle_) {
      // Drop the oldest: it is the likeliest to have been closed by the server.
      idle_.front()->Close();
      idle_.pop_front();
    }
    idle_.push_back(std::move(connection));
  }

 private:
  const std::size_t max_idle_;
  const std::chrono::milliseconds idle_timeout_;
  std::mutex mutex_;
  std::deque<std::unique_ptr<UpstreamConnection>> idle_;
};

}  // namespace claudegate::upstream
