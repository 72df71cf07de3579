// FileCredentialSource: one refresh (locks, re-read, token request, compare-and-swap save,
// invalid_grant handling) and the background retries of a save that failed.

// GCC 12 at -O2 reports false positives inside Asio/libstdc++ code inlined into this file:
// -Wnull-dereference in strand's shared_ptr comparison (located in the headers, hence the
// push/pop around the includes) and -Wmismatched-new-delete for awaitable frames, which
// awaitable_frame_base allocates and frees with its own operator new/delete (located at our
// coroutines' closing braces, hence file-wide). Neither concerns our code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include <exception>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>

#include "claudegate/credentials/file_credential_source.hpp"

#include "file_credential_source_internal.hpp"

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic pop
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace claudegate::credentials {

// This class's own helpers and nested types (file_credential_source_internal.hpp).
using namespace file_source_internal;  // NOLINT(google-build-using-namespace)

Awaitable<void> FileCredentialSource::RunRefresh(std::shared_ptr<FileCredentialSource> self,
                                                 std::string access_at_start) {
  Outcome outcome;
  try {
    outcome = co_await self->DoRefresh(std::move(access_at_start));
  } catch (const std::exception& e) {
    outcome = Outcome{};
    outcome.outcome = RefreshOutcome::kFailed;
    outcome.failure =
        RefreshFailure{RefreshFailureKind::kUnexpected, 0, std::string(kInternal), e.what(), {}};
  }
  self->Finish(std::move(outcome));
}

Awaitable<Result<TokenHttpResponse>> FileCredentialSource::PostWithHeartbeat(
    std::string body, const DirLock& first, const DirLock& second) {
  {
    const std::lock_guard lock(mutex_);
    ++post_count_;
  }
  if (!first.Held() && !second.Held()) {
    co_return co_await endpoint_.Post(std::move(body));
  }
  co_return co_await OnStrand(PostAndHeartbeat(std::move(body), first, second));
}

Awaitable<Result<TokenHttpResponse>> FileCredentialSource::PostAndHeartbeat(std::string body,
                                                                            const DirLock& first,
                                                                            const DirLock& second) {
  // The token request can outlast the CLI's 10 s stale threshold: keep the locks' mtimes fresh.
  using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
  auto result = co_await (endpoint_.Post(std::move(body)) ||
                          HeartbeatDirLocks(first, second, options_.heartbeat));
  if (result.index() != 0) {
    co_return Error{ErrorKind::kInternal, "lock heartbeat ended before the token request", {}, {}};
  }
  co_return std::move(std::get<0>(result));
}

Awaitable<FileCredentialSource::Outcome> FileCredentialSource::DoRefresh(
    std::string access_at_start) {
  Outcome out;
  const auto adopt = [&out](CredentialsDocument doc, bool keep_pending) {
    out.outcome = RefreshOutcome::kAdoptedSibling;
    out.doc = std::move(doc);
    out.keep_pending = keep_pending;
  };
  const auto fail = [&out](RefreshFailure failure) {
    out.outcome = RefreshOutcome::kFailed;
    out.failure = std::move(failure);
  };

  // 1. Cross-process refresh locks. A read-only directory cannot hold a lock; we then refresh
  //    without one (nobody can write the file there anyway) and keep the result in memory.
  DirLock refresh_lock;
  DirLock legacy_lock;
  bool lock_denied = false;
  auto acquired = co_await AcquireDirLock(RefreshLockPath(config_dir_), options_.refresh_lock);
  if (acquired) {
    refresh_lock = std::move(*acquired);
  } else if (acquired.error().failure == LockFailure::kDenied) {
    lock_denied = true;
  } else {
    // Busy: most likely a sibling is refreshing right now. If it already finished, use its result.
    if (auto disk = file_.Read(); disk && disk->oauth.access_token != access_at_start) {
      adopt(std::move(*disk), false);
    } else {
      fail(RefreshFailure{RefreshFailureKind::kTransient,
                          0,
                          std::string(Label(LockFailure::kBusy)),
                          acquired.error().message,
                          {}});
    }
    co_return out;
  }
  if (options_.take_legacy_lock && refresh_lock.Held()) {
    auto legacy = co_await AcquireDirLock(LegacyLockPath(config_dir_), options_.refresh_lock);
    if (legacy) {
      legacy_lock = std::move(*legacy);
    } else if (legacy.error().failure != LockFailure::kDenied) {
      if (auto disk = file_.Read(); disk && disk->oauth.access_token != access_at_start) {
        adopt(std::move(*disk), false);
      } else {
        fail(RefreshFailure{RefreshFailureKind::kTransient,
                            0,
                            std::string(Label(LockFailure::kBusy)),
                            legacy.error().message,
                            {}});
      }
      co_return out;
    }
  }

  // 2. The storage-write lock, before a refresh token is spent (CLI 2.1.330 likewise refuses to
  //    refresh when it cannot save): a sibling in the middle of writing the file finishes first,
  //    and the re-read below sees its result. Released again before the token request, which
  //    must not hold up the CLI's own writes (it gives up after about 7 s of retries); the save
  //    takes it again.
  if (!lock_denied) {
    auto write_lock =
        co_await AcquireDirLock(StorageWriteLockPath(config_dir_), options_.write_lock);
    if (!write_lock && write_lock.error().failure == LockFailure::kDenied) {
      lock_denied = true;
    } else if (!write_lock) {
      if (auto disk = file_.Read(); disk && disk->oauth.access_token != access_at_start) {
        adopt(std::move(*disk), false);
      } else {
        fail(RefreshFailure{RefreshFailureKind::kTransient,
                            0,
                            std::string(kStorageLockBusy),
                            write_lock.error().message,
                            {}});
      }
      co_return out;
    }
  }
  // Waiting for the write lock took time the heartbeat did not cover.
  refresh_lock.Touch();
  legacy_lock.Touch();

  // 3. Re-read under the locks. Unsaved tokens stay authoritative over the versions of the file
  //    they supersede (ReconcileLocked).
  auto disk = file_.Read();
  if (!disk) {
    fail(RefreshFailure{
        RefreshFailureKind::kTransient, 0, std::string(kUnreadable), disk.error().message, {}});
    co_return out;
  }
  const std::string disk_rt = disk->oauth.refresh_token;
  bool from_memory = false;
  CredentialsDocument base;
  {
    const std::lock_guard lock(mutex_);
    const FileStamp stamp = disk->stamp;
    ReconcileLocked(*disk, stamp);
    loaded_ = true;
    from_memory = pending_ != nullptr;
    base = doc_ ? *doc_ : *disk;
  }
  if (base.oauth.access_token != access_at_start) {
    adopt(std::move(base), from_memory);  // Someone refreshed since we decided to.
    co_return out;
  }
  if (base.oauth.LoggedOut()) {
    out.outcome = RefreshOutcome::kLoggedOut;
    out.doc = std::move(base);
    co_return out;
  }

  // 4. The token request; once more with the stored scopes after invalid_scope (CLI 2.1.330).
  ScopeChoice choice = ScopeChoice::kAuto;
  RefreshFailure failure;
  for (;;) {
    auto response =
        co_await PostWithHeartbeat(BuildRefreshBody(base.oauth, choice), refresh_lock, legacy_lock);
    if (!response) {
      failure = TransportFailure(response.error());
      break;
    }
    if (response->status >= 200 && response->status < 300) {
      co_return co_await Persist(base, disk_rt, lock_denied, response->body, Now());
    }
    failure = ClassifyTokenError(response->status, response->body);
    if (failure.ScopeRejected() && !base.oauth.client_id && choice == ScopeChoice::kAuto) {
      choice = ScopeChoice::kStored;
      continue;
    }
    break;
  }
  if (failure.kind == RefreshFailureKind::kInvalidGrant) {
    co_return co_await HandleInvalidGrant(base, from_memory || lock_denied, disk_rt, failure);
  }
  if (failure.kind == RefreshFailureKind::kAccountOnHold) {
    out.outcome = RefreshOutcome::kDead;
    out.dead = true;
    out.dead_refresh_token = base.oauth.refresh_token;
  } else {
    out.outcome = RefreshOutcome::kFailed;
  }
  out.failure = std::move(failure);
  co_return out;
}

Awaitable<FileCredentialSource::Outcome> FileCredentialSource::Persist(
    const CredentialsDocument& base, const std::string& expected_disk_rt, bool lock_denied,
    const std::string& response_body, system_clock::time_point now) {
  Outcome out;
  auto applied = ApplyTokenResponse(base.document.value("claudeAiOauth", ordered_json::object()),
                                    response_body, now);
  if (!applied) {
    out.outcome = RefreshOutcome::kFailed;
    out.failure = RefreshFailure{RefreshFailureKind::kUnexpected,
                                 200,
                                 std::string(kMalformedResponse),
                                 applied.error().message,
                                 {}};
    co_return out;
  }
  CredentialsDocument memory = base;
  memory.document["claudeAiOauth"] = *applied;
  auto parsed = ParseOAuth(memory.document);
  if (!parsed) {
    out.outcome = RefreshOutcome::kFailed;
    out.failure = RefreshFailure{RefreshFailureKind::kUnexpected,
                                 200,
                                 std::string(kMalformedResponse),
                                 parsed.error().message,
                                 {}};
    co_return out;
  }
  memory.oauth = std::move(*parsed);
  out.outcome = RefreshOutcome::kRefreshed;
  out.doc = memory;

  // From here on the old refresh token is spent: until the file holds the new one, it exists only
  // in `pending`, which Finish() keeps retrying to save.
  PendingSave pending;
  pending.response_body = response_body;
  pending.applied_at = now;
  pending.refresh_token = memory.oauth.refresh_token;
  pending.replaceable = {expected_disk_rt, base.oauth.refresh_token, ""};
  pending.since = now;
  pending.attempts = 1;
  const auto unsaved = [&](std::string error, bool not_writable) {
    pending.error = std::move(error);
    pending.not_writable = not_writable;
    out.pending = std::move(pending);
  };
  if (lock_denied) {
    unsaved("cannot create locks in " + config_dir_.string(), true);
    co_return out;
  }
  auto write_lock = co_await AcquireDirLock(StorageWriteLockPath(config_dir_), options_.write_lock);
  if (!write_lock) {
    unsaved(write_lock.error().message, NotWritable(write_lock.error()));
    co_return out;
  }
  // Re-apply the response to what is on disk now, so a concurrent change to another field (the
  // CLI updating subscriptionType, say) survives.
  auto cas = file_.CompareAndSwap(
      *write_lock, [&pending](const OAuthTokens& disk) { return pending.Replaces(disk); },
      [&pending](ordered_json& oauth) { pending.ApplyTo(oauth); });
  if (!cas) {
    unsaved(cas.error().message, NotWritable(cas.error()));
    co_return out;
  }
  if (!cas->written) {
    // A new login replaced the file meanwhile: never clobber it.
    out.outcome = RefreshOutcome::kAdoptedSibling;
  }
  out.doc = std::move(cas->document);
  co_return out;
}

Awaitable<FileCredentialSource::Outcome> FileCredentialSource::HandleInvalidGrant(
    const CredentialsDocument& base, bool memory_or_unlocked, const std::string& disk_rt_at_start,
    const RefreshFailure& failure) {
  Outcome out;
  // A sibling that ignored our lock (or an older CLI) may have rotated the token: re-read first.
  auto disk = file_.Read();
  if (disk && disk->oauth.refresh_token != disk_rt_at_start) {
    out.outcome = RefreshOutcome::kAdoptedSibling;
    out.doc = std::move(*disk);
    co_return out;
  }
  out.outcome = RefreshOutcome::kDead;
  out.dead = true;
  out.dead_refresh_token = base.oauth.refresh_token;
  out.failure = failure;
  if (memory_or_unlocked || !disk) {
    co_return out;
  }
  // Like the CLI: mark the token dead on disk, but only if the file still holds it.
  auto write_lock = co_await AcquireDirLock(StorageWriteLockPath(config_dir_), options_.write_lock);
  if (!write_lock) {
    co_return out;
  }
  auto cas = file_.CompareAndSwap(*write_lock, disk_rt_at_start, [](ordered_json& oauth) {
    oauth["refreshToken"] = "";
    oauth["accessToken"] = "";
    oauth["expiresAt"] = 0;
  });
  if (cas && !cas->written) {
    out.outcome = RefreshOutcome::kAdoptedSibling;
    out.dead = false;
    out.failure.reset();
  }
  if (cas) {
    out.doc = std::move(cas->document);
  }
  co_return out;
}

Awaitable<void> FileCredentialSource::SaveLoop(std::shared_ptr<FileCredentialSource> self) {
  Timer timer(self->executor_);
  std::minstd_rand rng{std::random_device{}()};
  for (int attempt = 1;; ++attempt) {
    timer.expires_after(self->options_.save_retry.Delay(
        attempt, std::uniform_real_distribution<double>(0.0, 1.0)(rng)));
    auto [ec] = co_await timer.async_wait();
    if (ec || co_await self->TrySavePending()) {
      co_return;
    }
  }
}

Awaitable<bool> FileCredentialSource::TrySavePending() {
  PendingSave pending;
  {
    const std::lock_guard lock(mutex_);
    if (!pending_) {
      save_loop_running_ = false;
      co_return true;
    }
    pending = *pending_;
  }
  auto write_lock = co_await AcquireDirLock(StorageWriteLockPath(config_dir_), options_.write_lock);
  std::optional<FileResult<CasResult>> cas;
  if (write_lock) {
    cas = file_.CompareAndSwap(
        *write_lock, [&pending](const OAuthTokens& disk) { return pending.Replaces(disk); },
        [&pending](ordered_json& oauth) { pending.ApplyTo(oauth); });
  }
  const std::lock_guard lock(mutex_);
  if (!pending_) {
    save_loop_running_ = false;
    co_return true;
  }
  if (pending_->generation != pending.generation) {
    // A newer refresh replaced the pending tokens meanwhile (and sent the refresh token this
    // attempt may just have written, so its save may replace it): go on with that one.
    co_return false;
  }
  if (!write_lock || !*cas) {
    ++pending_->attempts;
    if (write_lock) {
      pending_->error = cas->error().message;
      pending_->not_writable = NotWritable(cas->error());
    } else {
      pending_->error = write_lock.error().message;
      pending_->not_writable = NotWritable(write_lock.error());
    }
    co_return false;
  }
  CasResult& result = **cas;
  if (result.written || result.document.oauth.refresh_token == pending_->refresh_token) {
    spdlog::info("saved the refreshed Claude credentials to {} (after {} attempt(s))",
                 file_.Path().string(), pending_->attempts + 1);
  } else {
    spdlog::warn(
        "{} now holds a different login; dropping the refreshed tokens that were not saved yet",
        file_.Path().string());
  }
  stamp_ = result.document.stamp;
  doc_ = std::move(result.document);
  load_error_.reset();
  loaded_ = true;
  pending_.reset();
  save_loop_running_ = false;
  co_return true;
}

}  // namespace claudegate::credentials
