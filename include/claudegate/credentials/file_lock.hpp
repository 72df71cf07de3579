/// @file file_lock.hpp
/// Cross-process locks compatible with the Claude CLI's proper-lockfile: a lock is a *directory*
/// created with `mkdir` (atomic on every local and network file system), held while it exists,
/// refreshed by touching its mtime, and considered abandoned ("stale") when its mtime is older than
/// a threshold. See docs/anthropic-notes.md#oauth-credentials-file and #oauth-token-refresh.
///
/// The CLI uses three lock directories, and claudegate takes the same ones:
/// - `<configdir>/.oauth_refresh.lock` around a token refresh (stale 10 s in CLI 2.1.197, 60 s with
///   5 s heartbeats in 2.1.330);
/// - `<realpath(configdir)>.lock` (e.g. `~/.claude.lock`), the legacy refresh lock that 2.1.197
///   still takes *in addition*. We take it too, best effort, because older CLIs sharing the volume
///   exclude each other only through it; when its parent directory is not writable (typical for a
///   volume mounted at `/home/claude/.claude` in a container with a read-only root) nobody outside
///   the container can contend for it anyway, so failing to create it for that reason is not an
///   error (`LockFailure::kDenied` is ignored for it);
/// - `<configdir>/.storage-write.lock` around every read-modify-write of `.credentials.json`
///   (stale 15 s, 10 retries 100…1000 ms).
///
/// Known limitation shared with proper-lockfile: two processes that judge the same lock stale at
/// the same instant can both remove it and one may then remove the other's fresh lock. Heartbeats
/// at well under the stale threshold make this require a holder that stalled for seconds.
///
/// @par Thread Safety
/// A `DirLock` object is not shared between threads; different objects are independent.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "claudegate/error.hpp"
#include "claudegate/net.hpp"

namespace claudegate::credentials {

/// Why a lock was not taken. Callers branch on it (a denied lock means a read-only directory, where
/// tokens are kept in memory; a busy one means a sibling is working); `Label()` names it in logs.
enum class LockFailure {
  kBusy,    ///< Held by someone else after all retries ("lock_busy").
  kDenied,  ///< Cannot be created: parent missing, not writable, read-only ("lock_denied").
  kFailed,  ///< Cannot be created for another reason, errno in the message ("lock_failed").
};

/// The stable name of a lock failure, for logs and status output.
[[nodiscard]] std::string_view Label(LockFailure failure);

/// A lock that was not taken: the typed reason and a message naming the path and errno.
struct LockError {
  LockError() = default;  // boost::system::result needs it.
  LockError(LockFailure lock_failure, std::string text)
      : failure(lock_failure), message(std::move(text)) {}
  LockFailure failure = LockFailure::kFailed;
  std::string message;
};

/// The result of taking a lock.
template <typename T>
using LockResult = boost::system::result<T, LockError>;

/// ADL hook that makes `LockResult<T>::value()` usable (throws `std::runtime_error`).
[[noreturn]] void throw_exception_from_error(  // NOLINT(readability-identifier-naming)
    const LockError& error, const boost::source_location& location);

/// Stale threshold and retry schedule for one lock.
struct LockOptions {
  /// A lock whose mtime is older than this is abandoned and may be taken over.
  std::chrono::milliseconds stale{10000};
  /// Retries after the first attempt; total attempts = retries + 1.
  int retries = 10;
  std::chrono::milliseconds min_delay{100};   ///< First retry delay.
  std::chrono::milliseconds max_delay{1000};  ///< Cap; delays double up to it.
};

/// The refresh lock: CLI 2.1.197's 10 s stale threshold (2.1.330 heartbeats every 5 s, so a live
/// holder of either version never looks 10 s old). About 17 s of retries, longer than the CLI's
/// five 1-2 s waits, so a sibling's refresh (one token request) normally finishes meanwhile.
inline constexpr LockOptions kRefreshLockOptions{std::chrono::milliseconds(10000), 12,
                                                 std::chrono::milliseconds(100),
                                                 std::chrono::milliseconds(2000)};
/// The storage-write lock, with the CLI's exact proper-lockfile settings.
inline constexpr LockOptions kStorageWriteLockOptions{std::chrono::milliseconds(15000), 10,
                                                      std::chrono::milliseconds(100),
                                                      std::chrono::milliseconds(1000)};
/// How often a held refresh lock's mtime is touched: half of the smallest stale window in use.
inline constexpr std::chrono::milliseconds kLockHeartbeat{5000};

/// `<configdir>/.oauth_refresh.lock`.
[[nodiscard]] std::filesystem::path RefreshLockPath(const std::filesystem::path& config_dir);
/// `<realpath(configdir)>.lock`; falls back to the lexically normal path when realpath fails.
[[nodiscard]] std::filesystem::path LegacyLockPath(const std::filesystem::path& config_dir);
/// `<configdir>/.storage-write.lock`.
[[nodiscard]] std::filesystem::path StorageWriteLockPath(const std::filesystem::path& config_dir);

/// A held mkdir-style lock, released (rmdir) on destruction. Move-only.
class DirLock {
 public:
  DirLock() = default;
  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

  /// One attempt: `mkdir(path)`; on `EEXIST`, if the directory's mtime is older than `stale`,
  /// remove it and try once more. Never blocks. Errors: every `LockFailure`.
  [[nodiscard]] static LockResult<DirLock> TryAcquire(const std::filesystem::path& path,
                                                      std::chrono::milliseconds stale);

  /// True while this object holds the lock.
  [[nodiscard]] bool Held() const { return !path_.empty(); }
  [[nodiscard]] const std::filesystem::path& Path() const { return path_; }

  /// Heartbeat: sets the directory's mtime to now. Returns false when the directory vanished or
  /// cannot be touched (the lock was taken over as stale: "compromised" in proper-lockfile terms).
  bool Touch() const;

  /// Removes the directory now; idempotent.
  void Release();

 private:
  explicit DirLock(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

/// Acquires `path` with `TryAcquire`, retrying while busy with delays doubling from
/// `options.min_delay` to `options.max_delay` on a timer of the calling coroutine's executor
/// (no thread is blocked). Cancellation: a cancelled wait ends the attempts with
/// `LockFailure::kBusy`. Errors: `kBusy` after the retries; the others at once.
[[nodiscard]] Awaitable<LockResult<DirLock>> AcquireDirLock(std::filesystem::path path,
                                                            LockOptions options);

/// Touches `first` (and `second` when held) every `interval` until cancelled; run it in parallel
/// with the work done under the lock (`work() || HeartbeatDirLocks(...)`). Never completes on its
/// own; completes promptly when its wait is cancelled. The locks must outlive it.
[[nodiscard]] Awaitable<void> HeartbeatDirLocks(const DirLock& first, const DirLock& second,
                                                std::chrono::milliseconds interval);

}  // namespace claudegate::credentials
