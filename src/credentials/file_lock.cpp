#include "claudegate/credentials/file_lock.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace claudegate::credentials {
namespace {

// Wall-clock age of a directory's mtime; proper-lockfile compares mtime with Date.now().
std::chrono::milliseconds AgeOf(const struct stat& st) {
  const auto mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() -
                                                               mtime);
}

}  // namespace

std::string_view Label(LockFailure failure) {
  switch (failure) {
    case LockFailure::kBusy:
      return "lock_busy";
    case LockFailure::kDenied:
      return "lock_denied";
    case LockFailure::kFailed:
      return "lock_failed";
  }
  return "lock_failed";
}

void throw_exception_from_error(const LockError& error,
                                const boost::source_location& /*location*/) {
  throw std::runtime_error(std::string(Label(error.failure)) + ": " + error.message);
}

std::filesystem::path RefreshLockPath(const std::filesystem::path& config_dir) {
  return config_dir / ".oauth_refresh.lock";
}

std::filesystem::path LegacyLockPath(const std::filesystem::path& config_dir) {
  std::error_code ec;
  auto real = std::filesystem::canonical(config_dir, ec);
  if (ec) {
    real = config_dir.lexically_normal();
  }
  std::string text = real.string();
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  return text + ".lock";
}

std::filesystem::path StorageWriteLockPath(const std::filesystem::path& config_dir) {
  return config_dir / ".storage-write.lock";
}

DirLock::DirLock(DirLock&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    Release();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

DirLock::~DirLock() { Release(); }

LockResult<DirLock> DirLock::TryAcquire(const std::filesystem::path& path,
                                        std::chrono::milliseconds stale) {
  // Two rounds: the second follows removal of a stale lock, without a stale check, as in
  // proper-lockfile's acquireLock().
  for (int round = 0; round < 2; ++round) {
    if (::mkdir(path.c_str(), 0777) == 0) {
      return DirLock(path);
    }
    const int err = errno;
    if (err != EEXIST) {
      const bool denied = err == EACCES || err == EPERM || err == EROFS || err == ENOENT;
      return LockError(denied ? LockFailure::kDenied : LockFailure::kFailed,
                       "cannot create lock " + path.string() + ": " + std::strerror(err));
    }
    if (round == 1) {
      break;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        continue;  // Released between our mkdir and stat: try again.
      }
      break;
    }
    if (AgeOf(st) <= stale) {
      break;
    }
    spdlog::warn("taking over stale lock {} (untouched for {} ms)", path.string(),
                 AgeOf(st).count());
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
      return LockError(LockFailure::kFailed,
                       "cannot remove stale lock " + path.string() + ": " + std::strerror(errno));
    }
  }
  return LockError(LockFailure::kBusy, "lock " + path.string() + " is held by another process");
}

bool DirLock::Touch() const {
  if (path_.empty()) {
    return false;
  }
  // nullptr times = now.
  return ::utimensat(AT_FDCWD, path_.c_str(), nullptr, 0) == 0;
}

void DirLock::Release() {
  if (!path_.empty()) {
    ::rmdir(path_.c_str());
    path_.clear();
  }
}

Awaitable<LockResult<DirLock>> AcquireDirLock(std::filesystem::path path, LockOptions options) {
  auto delay = options.min_delay;
  for (int attempt = 0;; ++attempt) {
    auto lock = DirLock::TryAcquire(path, options.stale);
    if (lock || lock.error().failure != LockFailure::kBusy || attempt >= options.retries) {
      co_return lock;
    }
    Timer timer(co_await net::this_coro::executor);
    timer.expires_after(delay);
    auto [ec] = co_await timer.async_wait();
    if (ec) {
      co_return LockError(LockFailure::kBusy, "gave up waiting for lock " + path.string());
    }
    delay = std::min(delay * 2, options.max_delay);
  }
}

Awaitable<void> HeartbeatDirLocks(const DirLock& first, const DirLock& second,
                                  std::chrono::milliseconds interval) {
  Timer timer(co_await net::this_coro::executor);
  bool warned = false;
  for (;;) {
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait();
    if (ec) {
      co_return;  // Cancelled: the work under the lock finished.
    }
    const bool ok = (!first.Held() || first.Touch()) && (!second.Held() || second.Touch());
    if (!ok && !warned) {
      spdlog::warn("a credentials lock was taken over while held; another process judged it stale");
      warned = true;
    }
  }
}

}  // namespace claudegate::credentials
