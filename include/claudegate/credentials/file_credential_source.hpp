/// @file file_credential_source.hpp
/// The refreshing credential source backed by the Claude CLI's `.credentials.json`, safe to share
/// with the CLI and with other claudegate replicas on the same volume
/// (docs/anthropic-notes.md#sharing-the-config-dir-with-the-cli).
///
/// Behaviour:
/// - Every call stats the file; a rewrite by another process (new inode, size or mtime) is picked
///   up before the token is used.
/// - A refresh starts when the token expires within `refresh_margin` (5 min) of `now()`, or when
///   `OnRejected()` reports the current token. Exactly one refresh runs per process. While the
///   current token is still valid (the proactive refresh) callers get it at once and the refresh
///   runs in the background; only callers without a usable token (expired, or rejected upstream)
///   wait for it, up to `wait_timeout`, on an Asio channel, without polling.
/// - The refresh takes `.oauth_refresh.lock` (+ the legacy lock), then `.storage-write.lock`
///   (proving the file can be saved before a refresh token is spent), re-reads the file under
///   them and skips the request when the access token already changed. The storage-write lock is
///   released during the token request (the CLI's own writes must not wait on the network) and
///   taken again to compare-and-swap the new tokens in, adopting a sibling's newer tokens instead
///   of clobbering them.
/// - When that save fails (lock busy, disk full, read-only volume), the tokens are held in memory
///   as *unsaved* and a background task retries the save with bounded backoff until it lands;
///   `Status()` reports it. A rotated refresh token is the only valid one: losing it logs out the
///   CLI sharing the file too.
/// - `invalid_grant`: re-read first; adopt a sibling's rotation; only when the file still holds
///   the failed token, mark it dead (CAS-write the CLI's dead marker) and stop refreshing.
/// - Other failures back off exponentially; a still-valid token keeps being served meanwhile.
/// - A read-only file or volume: the refreshed tokens are kept in memory (logged once) and the save
///   retried at the capped backoff.
/// - On creation, temporary files that crashed writes left behind are removed
///   (`RemoveStaleTempFiles`).
/// - Tokens never reach the logs; outcomes and expiry times do.
///
/// @par Thread Safety
/// All public methods may be called concurrently from any thread (state is guarded by a mutex).
/// The refresh itself runs as its own coroutine on the executor given to `Create()`, so a caller
/// that is cancelled (client went away) does not abort a refresh whose response carries a rotated
/// refresh token.
///
/// @par Cancellation
/// `Current()`/`OnRejected()` waiting for a refresh honour their caller's cancellation; the refresh
/// continues for the other waiters.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include <boost/asio/experimental/concurrent_channel.hpp>

#include "claudegate/credentials/credential_source.hpp"
#include "claudegate/credentials/credentials_file.hpp"
#include "claudegate/credentials/file_lock.hpp"
#include "claudegate/credentials/refresh_protocol.hpp"
#include "claudegate/credentials/token_endpoint.hpp"

namespace claudegate::credentials {

/// Wall clock, injectable for tests (expiry times in the file are wall-clock milliseconds).
using WallClock = std::function<std::chrono::system_clock::time_point()>;

/// Tunables of `FileCredentialSource`; the defaults are the production values.
struct FileCredentialSourceOptions {
  WallClock now;  ///< Empty: `std::chrono::system_clock::now`.
  std::chrono::seconds refresh_margin = kRefreshMargin;
  /// How long a caller waits for a refresh in flight before giving up on it (it then gets the
  /// current token if still valid, else an error). Covers lock waits plus a 30 s token request.
  std::chrono::milliseconds wait_timeout{std::chrono::seconds(60)};
  BackoffPolicy backoff;
  /// Between attempts to save refreshed tokens that could not be written.
  BackoffPolicy save_retry{std::chrono::seconds(1), std::chrono::seconds(60), 0.2};
  LockOptions refresh_lock = kRefreshLockOptions;
  LockOptions write_lock = kStorageWriteLockOptions;
  std::chrono::milliseconds heartbeat = kLockHeartbeat;
  bool take_legacy_lock = true;           ///< See file_lock.hpp for why the legacy lock is taken.
  CredentialsFile::WriteHook write_hook;  ///< Test-only fault injection for writes.
};

/// `CredentialSource` over `<config_dir>/.credentials.json`. Create with `Create()`; the object
/// keeps itself alive while a refresh runs.
class FileCredentialSource final : public CredentialSource,
                                   public std::enable_shared_from_this<FileCredentialSource> {
 public:
  /// `endpoint` must outlive the source and its refreshes. Refreshes run on `executor`.
  [[nodiscard]] static std::shared_ptr<FileCredentialSource> Create(
      std::filesystem::path config_dir, TokenEndpoint& endpoint, net::any_io_executor executor,
      FileCredentialSourceOptions options = {});

  /// The access token as a `kOAuth` credential, refreshing first when due. Errors
  /// (`kServiceUnavailable`): file absent/corrupt (the message says what to mount or run),
  /// logged out, refresh token dead, or expired while refreshing fails.
  Awaitable<Result<Credential>> Current() override;

  /// Forces a refresh unless the file already holds a different token than `rejected`. Errors:
  /// as `Current()`, plus `kUpstreamAuthentication` when no other token can be obtained.
  Awaitable<Result<Credential>> OnRejected(const Credential& rejected) override;

  /// `{"source":"credentials_file","path","logged_out","expires_at","expires_at_ms",
  /// "seconds_until_expiry","subscription_type","rate_limit_tier","persisted","refreshing",
  /// "error","last_refresh":{"at","outcome","error"},"unsaved":{"since","attempts","error"}|null}`;
  /// never a token. `unsaved` is set while refreshed tokens are held only in memory.
  [[nodiscard]] nlohmann::json Status() const override;

  /// True when a token is loaded, not logged out or dead, and either unexpired or refreshable now.
  [[nodiscard]] bool Ready() const override;
  [[nodiscard]] Readiness ReadinessState() const override;

  /// Refresh attempts that reached the token endpoint so far (for tests and metrics).
  [[nodiscard]] std::size_t PostCount() const;

  /// Use `Create()`; public only for `std::make_shared`.
  struct PrivateTag {};
  FileCredentialSource(PrivateTag, std::filesystem::path config_dir, TokenEndpoint& endpoint,
                       net::any_io_executor executor, FileCredentialSourceOptions options);
  ~FileCredentialSource() override;
  FileCredentialSource(const FileCredentialSource&) = delete;
  FileCredentialSource& operator=(const FileCredentialSource&) = delete;

 private:
  using DoneChannel = net::experimental::concurrent_channel<void(error_code)>;
  struct Decision;
  struct Outcome;
  struct PendingSave;
  struct LastRefresh {
    std::chrono::system_clock::time_point at;
    RefreshOutcome outcome = RefreshOutcome::kFailed;
    std::string error;
  };

  std::chrono::system_clock::time_point Now() const;
  Awaitable<Result<Credential>> Obtain(std::optional<std::string> rejected_access_token);
  Decision DecideLocked(const std::optional<std::string>& rejected, bool may_start);
  void ReloadIfChangedLocked() const;
  void ReconcileLocked(FileResult<CredentialsDocument> read, const FileStamp& current) const;
  [[nodiscard]] Readiness ReadinessLocked() const;
  Awaitable<bool> WaitForRefresh(std::shared_ptr<DoneChannel> done) const;
  Awaitable<bool> WaitBounded(std::shared_ptr<DoneChannel> done) const;
  static Awaitable<void> RunRefresh(std::shared_ptr<FileCredentialSource> self,
                                    std::string access_at_start);
  Awaitable<Outcome> DoRefresh(std::string access_at_start);
  Awaitable<Result<TokenHttpResponse>> PostWithHeartbeat(std::string body, const DirLock& first,
                                                         const DirLock& second);
  Awaitable<Result<TokenHttpResponse>> PostAndHeartbeat(std::string body, const DirLock& first,
                                                        const DirLock& second);
  Awaitable<Outcome> Persist(const CredentialsDocument& base, const std::string& expected_disk_rt,
                             bool lock_denied, const std::string& response_body,
                             std::chrono::system_clock::time_point now);
  Awaitable<Outcome> HandleInvalidGrant(const CredentialsDocument& base, bool memory_or_unlocked,
                                        const std::string& disk_rt_at_start,
                                        const RefreshFailure& failure);
  void Finish(Outcome outcome);
  void LogUnsavedLocked() const;
  static Awaitable<void> SaveLoop(std::shared_ptr<FileCredentialSource> self);
  Awaitable<bool> TrySavePending();

  const std::filesystem::path config_dir_;
  const CredentialsFile file_;
  TokenEndpoint& endpoint_;
  const net::any_io_executor executor_;
  const FileCredentialSourceOptions options_;

  mutable std::mutex mutex_;
  // Guarded by mutex_. The cache is mutable because Status()/Ready() reload it on change too.
  mutable bool loaded_ = false;
  mutable std::optional<CredentialsDocument> doc_;  ///< Last known tokens (disk or memory).
  mutable std::optional<FileError> load_error_;     ///< Why doc_ is empty (with guidance).
  mutable FileStamp stamp_;                         ///< Disk version doc_ corresponds to.
  /// Refreshed tokens not yet on disk; doc_ is then the disk version with them applied.
  mutable std::unique_ptr<PendingSave> pending_;
  std::uint64_t pending_generation_ = 0;
  bool save_loop_running_ = false;
  bool refreshing_ = false;
  std::shared_ptr<DoneChannel> done_;  ///< Closed when the refresh in flight finishes.
  int consecutive_failures_ = 0;
  std::chrono::system_clock::time_point retry_after_{};
  std::string dead_refresh_token_;  ///< Refresh token known dead; never sent again.
  std::string dead_reason_;
  std::optional<LastRefresh> last_refresh_;
  std::array<std::uint64_t, kRefreshOutcomeCount> refresh_counts_{};  ///< By outcome, for /metrics.
  mutable bool not_writable_logged_ = false;
  std::size_t post_count_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace claudegate::credentials
