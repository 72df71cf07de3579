// Helpers shared by the credentials tests: a unique temp directory, file helpers, a scriptable
// fake token endpoint and a runner that drives one coroutine to completion.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "claudegate/credentials/token_endpoint.hpp"
#include "claudegate/net.hpp"

namespace claudegate::credentials::testing {

/// A fresh directory from mkdtemp, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "claudegate-cred-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline struct stat StatOf(const std::filesystem::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st;
}

/// Sets a path's mtime `age` into the past (to make a lock stale).
inline void Age(const std::filesystem::path& path, std::chrono::seconds age) {
  const auto t = std::chrono::system_clock::now() - age;
  const auto sec = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
  const std::array<timespec, 2> times{timespec{sec.count(), 0}, timespec{sec.count(), 0}};
  ::utimensat(AT_FDCWD, path.c_str(), times.data(), 0);
}

/// A `.credentials.json` document like the CLI writes, with keys the gateway must preserve.
inline std::string CredentialsJson(const std::string& access, const std::string& refresh,
                                   std::int64_t expires_at_ms) {
  nlohmann::ordered_json doc = {
      {"mcpOAuth", {{"server|abc", {{"accessToken", "mcp-token"}, {"expiresAt", 1}}}}},
      {"claudeAiOauth",
       {{"accessToken", access},
        {"refreshToken", refresh},
        {"expiresAt", expires_at_ms},
        {"scopes", {"user:inference", "user:profile", "user:projects:read"}},
        {"subscriptionType", "max"},
        {"rateLimitTier", "default_claude_max_20x"},
        {"futureField", {{"nested", true}}}}},
      {"pluginSecrets", {{"plugin", "secret"}}},
  };
  return doc.dump();
}

/// Scriptable `TokenEndpoint`: records bodies, optionally waits on a gate, answers via `respond`.
class FakeTokenEndpoint final : public TokenEndpoint {
 public:
  using Gate = net::experimental::concurrent_channel<void(error_code)>;

  std::function<Result<TokenHttpResponse>(const std::string& body)> respond;
  std::shared_ptr<Gate> gate;  ///< When set, Post() waits until it is closed.

  Awaitable<Result<TokenHttpResponse>> Post(std::string json_body) override {
    {
      const std::lock_guard lock(mutex_);
      bodies_.push_back(json_body);
    }
    calls_.fetch_add(1);
    if (gate) {
      (void)co_await gate->async_receive(Token{});
    }
    co_return respond(json_body);
  }

  [[nodiscard]] int Calls() const { return calls_.load(); }
  [[nodiscard]] std::vector<std::string> Bodies() const {
    const std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  std::atomic<int> calls_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> bodies_;
};

inline Result<TokenHttpResponse> Json(unsigned status, const std::string& body) {
  return TokenHttpResponse{status, body};
}

/// Runs `awaitable` on `ioc` until it completes (run_for is a safety limit only). Work it started
/// in the background (a proactive refresh, a save retry) stays queued: `RunUntil` drives it.
template <typename T>
T RunToCompletion(net::io_context& ioc, Awaitable<T> awaitable) {
  std::optional<T> result;
  std::exception_ptr error;
  net::co_spawn(ioc, std::move(awaitable), [&](std::exception_ptr e, T value) {
    error = e;
    result.emplace(std::move(value));
    ioc.stop();
  });
  ioc.restart();
  ioc.run_for(std::chrono::seconds(20));
  if (error) {
    std::rethrow_exception(error);
  }
  if (!result) {
    throw std::runtime_error("coroutine did not complete");
  }
  return std::move(*result);
}

/// Runs `ioc` until `done()` holds, at most `limit`; returns whether it holds.
inline bool RunUntil(net::io_context& ioc, const std::function<bool()>& done,
                     std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  ioc.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    if (ioc.run_one_for(std::chrono::milliseconds(20)) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // Idle: nothing queued yet.
    }
    ioc.restart();
  }
  return true;
}

}  // namespace claudegate::credentials::testing
