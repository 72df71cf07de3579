// GCC 12 at -O2 reports false positives inside Asio/libstdc++ code inlined into this file:
// -Wnull-dereference in strand's shared_ptr comparison (located in the headers, hence the
// push/pop around the includes) and -Wmismatched-new-delete for awaitable frames, which
// awaitable_frame_base allocates and frees with its own operator new/delete (located at our
// coroutines' closing braces, hence file-wide). Neither concerns our code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif
#include "claudegate/credentials/file_credential_source.hpp"

#include <array>
#include <ctime>
#include <exception>
#include <spdlog/spdlog.h>
#include <variant>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic pop
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace claudegate::credentials {
namespace {

using nlohmann::ordered_json;
using std::chrono::system_clock;

std::string FormatTime(system_clock::time_point t) {
  const std::time_t seconds = system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  std::array<char, 32> buffer{};
  const auto n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return {buffer.data(), n};
}

std::int64_t SecondsBetween(system_clock::time_point from, system_clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

Error Unavailable(std::string message) {
  return Error{ErrorKind::kServiceUnavailable, std::move(message), {}, {}};
}

// Turns a file error into a message that says what to do about it.
Error WithGuidance(Error error, const std::filesystem::path& path) {
  if (error.code == kCodeAbsent) {
    error.message = "no Claude credentials in " + path.string() +
                    ": log in with the official Claude CLI (`claude login`) so it writes this "
                    "file, mount the directory that holds it (the claude-auth volume at "
                    "/home/claude/.claude; CLAUDE_CONFIG_DIR selects another directory), or set "
                    "CLAUDE_CODE_OAUTH_TOKEN to a token from `claude setup-token`";
  } else if (error.code == kCodeCorrupt) {
    error.message += "; run `claude login` to rewrite it";
  } else if (error.code == kCodeUnreadable) {
    error.message += "; the gateway's user must be able to read the file";
  }
  error.kind = ErrorKind::kServiceUnavailable;
  return error;
}

// Runs `work` on a private strand and awaits it. Asio's `||` runs both operands on the current
// executor; on an io_context driven by several threads the winner's cancellation of the loser
// would race with the loser's own progress unless that executor is a strand.
template <typename T>
Awaitable<T> OnStrand(Awaitable<T> work) {
  auto strand = net::make_strand(co_await net::this_coro::executor);
  co_return co_await net::co_spawn(strand, std::move(work), net::use_awaitable);
}

}  // namespace

struct FileCredentialSource::Decision {
  std::optional<Result<Credential>> result;
  std::shared_ptr<DoneChannel> wait_on;
  bool start = false;
  std::string access_at_start;
};

struct FileCredentialSource::Outcome {
  std::string outcome;  // refreshed | adopted_sibling | failed | dead | logged_out
  std::optional<CredentialsDocument> doc;  // New state to adopt.
  bool memory_only = false;
  std::optional<RefreshFailure> failure;
  bool dead = false;
  std::string dead_refresh_token;
  bool not_writable = false;
  std::string write_error;
};

std::shared_ptr<FileCredentialSource> FileCredentialSource::Create(
    std::filesystem::path config_dir, TokenEndpoint& endpoint, net::any_io_executor executor,
    FileCredentialSourceOptions options) {
  return std::make_shared<FileCredentialSource>(PrivateTag{}, std::move(config_dir), endpoint,
                                                std::move(executor), std::move(options));
}

FileCredentialSource::FileCredentialSource(PrivateTag, std::filesystem::path config_dir,
                                           TokenEndpoint& endpoint, net::any_io_executor executor,
                                           FileCredentialSourceOptions options)
    : config_dir_(std::move(config_dir)),
      file_(config_dir_ / ".credentials.json", options.write_hook),
      endpoint_(endpoint),
      executor_(std::move(executor)),
      options_(std::move(options)) {}

system_clock::time_point FileCredentialSource::Now() const {
  return options_.now ? options_.now() : system_clock::now();
}

Awaitable<Result<Credential>> FileCredentialSource::Current() {
  co_return co_await Obtain(std::nullopt);
}

Awaitable<Result<Credential>> FileCredentialSource::OnRejected(const Credential& rejected) {
  co_return co_await Obtain(rejected.secret);
}

std::size_t FileCredentialSource::PostCount() const {
  const std::lock_guard lock(mutex_);
  return post_count_;
}

void FileCredentialSource::ReloadIfChangedLocked() const {
  const FileStamp current = file_.Stat();
  if (loaded_ && current == stamp_) {
    return;
  }
  loaded_ = true;
  auto read = file_.Read();
  memory_only_ = false;
  if (read) {
    stamp_ = read->stamp;
    doc_ = std::move(*read);
    load_error_.reset();
    return;
  }
  stamp_ = current;
  doc_.reset();
  load_error_ = WithGuidance(read.error(), file_.Path());
}

FileCredentialSource::Decision FileCredentialSource::DecideLocked(
    const std::optional<std::string>& rejected, bool may_start) {
  ReloadIfChangedLocked();
  Decision d;
  if (!doc_) {
    d.result = *load_error_;
    return d;
  }
  const auto now = Now();
  const OAuthTokens& tokens = doc_->oauth;
  if (tokens.LoggedOut()) {
    d.result = Unavailable("the Claude credentials in " + file_.Path().string() +
                           " are logged out" +
                           (dead_reason_.empty() ? "" : " (" + dead_reason_ + ")") +
                           ": run `claude login` again");
    return d;
  }
  const bool rejected_current = rejected.has_value() && *rejected == tokens.access_token;
  const Credential credential{CredentialKind::kOAuth, tokens.access_token};
  if (!rejected_current && !NeedsRefresh(tokens, now, options_.refresh_margin)) {
    d.result = credential;
    return d;
  }
  const bool usable = !rejected_current && now < tokens.ExpiresAt();
  const auto fallback = [&](std::string why) -> Result<Credential> {
    if (usable) {
      return credential;
    }
    return Error{rejected_current ? ErrorKind::kUpstreamAuthentication
                                  : ErrorKind::kServiceUnavailable,
                 std::move(why),
                 {},
                 {}};
  };
  const std::string last_error =
      last_refresh_ && !last_refresh_->error.empty() ? last_refresh_->error : "no details";
  if (!dead_refresh_token_.empty() && dead_refresh_token_ == tokens.refresh_token) {
    d.result = fallback("the Claude refresh token in " + file_.Path().string() +
                        " is no longer valid (" + dead_reason_ + "): run `claude login` again");
  } else if (refreshing_) {
    if (may_start) {
      d.wait_on = done_;
    } else {
      d.result = fallback("timed out waiting for the Claude credential refresh in progress");
    }
  } else if (now < retry_after_) {
    d.result = fallback("refreshing the Claude credentials failed (" + last_error +
                        "); next attempt in " + std::to_string(SecondsBetween(now, retry_after_)) +
                        " s");
  } else if (!may_start) {
    d.result = fallback("refreshing the Claude credentials did not produce a usable token (" +
                        last_error + ")");
  } else {
    refreshing_ = true;
    done_ = std::make_shared<DoneChannel>(executor_, 0);
    d.wait_on = done_;
    d.start = true;
    d.access_at_start = tokens.access_token;
  }
  return d;
}

Awaitable<Result<Credential>> FileCredentialSource::Obtain(
    std::optional<std::string> rejected_access_token) {
  // Each pass either answers or waits for one refresh; a bounded number of passes keeps a caller
  // from waiting on refresh after refresh.
  for (int pass = 0; pass < 3; ++pass) {
    Decision d;
    {
      const std::lock_guard lock(mutex_);
      d = DecideLocked(rejected_access_token, true);
    }
    if (d.result) {
      co_return std::move(*d.result);
    }
    if (d.start) {
      // Spawned outside the mutex (co_spawn may run inline) and not tied to this caller, whose
      // cancellation must not abort a request that rotates the refresh token.
      net::co_spawn(executor_, RunRefresh(shared_from_this(), std::move(d.access_at_start)),
                    [](const std::exception_ptr& e) {
                      if (e) {
                        try {
                          std::rethrow_exception(e);
                        } catch (const std::exception& ex) {
                          spdlog::error("bug: credential refresh task threw: {}", ex.what());
                        }
                      }
                    });
    }
    if (!co_await WaitForRefresh(std::move(d.wait_on))) {
      break;
    }
  }
  const std::lock_guard lock(mutex_);
  co_return std::move(*DecideLocked(rejected_access_token, false).result);
}

Awaitable<bool> FileCredentialSource::WaitForRefresh(std::shared_ptr<DoneChannel> done) const {
  co_return co_await OnStrand(WaitBounded(std::move(done)));
}

Awaitable<bool> FileCredentialSource::WaitBounded(std::shared_ptr<DoneChannel> done) const {
  using namespace net::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
  Timer timer(co_await net::this_coro::executor);
  timer.expires_after(options_.wait_timeout);
  auto result = co_await (done->async_receive(Token{}) || timer.async_wait());
  // The channel is never sent to, only closed: closed means the refresh finished. Anything else
  // (timeout, our caller's cancellation) ends the wait.
  co_return result.index() == 0 &&
      std::get<0>(std::get<0>(result)) == net::experimental::error::channel_closed;
}

Awaitable<void> FileCredentialSource::RunRefresh(std::shared_ptr<FileCredentialSource> self,
                                                 std::string access_at_start) {
  Outcome outcome;
  try {
    outcome = co_await self->DoRefresh(std::move(access_at_start));
  } catch (const std::exception& e) {
    outcome = Outcome{};
    outcome.outcome = "failed";
    outcome.failure = RefreshFailure{RefreshFailureKind::kUnexpected, 0, "internal", e.what(), {}};
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

Awaitable<Result<TokenHttpResponse>> FileCredentialSource::PostAndHeartbeat(
    std::string body, const DirLock& first, const DirLock& second) {
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
  const auto adopt = [&out](CredentialsDocument doc, bool memory_only) {
    out.outcome = "adopted_sibling";
    out.doc = std::move(doc);
    out.memory_only = memory_only;
  };
  const auto fail = [&out](RefreshFailure failure) {
    out.outcome = "failed";
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
  } else if (acquired.error().code == kCodeLockDenied) {
    lock_denied = true;
  } else {
    // Busy: most likely a sibling is refreshing right now. If it already finished, use its result.
    if (auto disk = file_.Read(); disk && disk->oauth.access_token != access_at_start) {
      adopt(std::move(*disk), false);
    } else {
      fail(RefreshFailure{RefreshFailureKind::kTransient, 0, "lock_busy", acquired.error().message,
                          {}});
    }
    co_return out;
  }
  if (options_.take_legacy_lock && refresh_lock.Held()) {
    auto legacy = co_await AcquireDirLock(LegacyLockPath(config_dir_), options_.refresh_lock);
    if (legacy) {
      legacy_lock = std::move(*legacy);
    } else if (legacy.error().code != kCodeLockDenied) {
      if (auto disk = file_.Read(); disk && disk->oauth.access_token != access_at_start) {
        adopt(std::move(*disk), false);
      } else {
        fail(RefreshFailure{RefreshFailureKind::kTransient, 0, "lock_busy",
                            legacy.error().message, {}});
      }
      co_return out;
    }
  }

  // 2. Re-read under the lock. Tokens we hold only in memory (unwritable file) stay authoritative
  //    while the disk version they derive from is unchanged.
  std::optional<CredentialsDocument> memory_doc;
  FileStamp memory_stamp;
  {
    const std::lock_guard lock(mutex_);
    if (memory_only_ && doc_) {
      memory_doc = doc_;
      memory_stamp = stamp_;
    }
  }
  auto disk = file_.Read();
  if (!disk) {
    fail(RefreshFailure{RefreshFailureKind::kTransient, 0, "unreadable", disk.error().message, {}});
    co_return out;
  }
  const bool from_memory = memory_doc.has_value() && disk->stamp == memory_stamp;
  CredentialsDocument base = from_memory ? *memory_doc : *disk;
  base.stamp = disk->stamp;
  const std::string disk_rt = disk->oauth.refresh_token;
  if (base.oauth.access_token != access_at_start) {
    adopt(std::move(base), from_memory);  // Someone refreshed since we decided to.
    co_return out;
  }
  if (base.oauth.LoggedOut()) {
    out.outcome = "logged_out";
    out.doc = std::move(base);
    co_return out;
  }

  // 3. The token request; once more with the stored scopes after invalid_scope (CLI 2.1.330).
  ScopeChoice choice = ScopeChoice::kAuto;
  RefreshFailure failure;
  for (;;) {
    auto response = co_await PostWithHeartbeat(BuildRefreshBody(base.oauth, choice), refresh_lock,
                                               legacy_lock);
    if (!response) {
      failure = TransportFailure(response.error());
      break;
    }
    if (response->status >= 200 && response->status < 300) {
      co_return co_await Persist(base, disk_rt, lock_denied, response->body, Now());
    }
    failure = ClassifyTokenError(response->status, response->body);
    if (failure.error == "invalid_scope" && !base.oauth.client_id && choice == ScopeChoice::kAuto) {
      choice = ScopeChoice::kStored;
      continue;
    }
    break;
  }
  if (failure.kind == RefreshFailureKind::kInvalidGrant) {
    co_return co_await HandleInvalidGrant(base, from_memory || lock_denied, disk_rt, failure);
  }
  if (failure.kind == RefreshFailureKind::kAccountOnHold) {
    out.outcome = "dead";
    out.dead = true;
    out.dead_refresh_token = base.oauth.refresh_token;
  } else {
    out.outcome = "failed";
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
    out.outcome = "failed";
    out.failure = RefreshFailure{RefreshFailureKind::kUnexpected, 200, "malformed_response",
                                 applied.error().message, {}};
    co_return out;
  }
  CredentialsDocument memory = base;
  memory.document["claudeAiOauth"] = *applied;
  auto parsed = ParseOAuth(memory.document);
  if (!parsed) {
    out.outcome = "failed";
    out.failure = RefreshFailure{RefreshFailureKind::kUnexpected, 200, "malformed_response",
                                 parsed.error().message, {}};
    co_return out;
  }
  memory.oauth = std::move(*parsed);
  out.outcome = "refreshed";
  out.doc = memory;
  out.memory_only = true;  // Until the write below succeeds.

  if (lock_denied) {
    out.not_writable = true;
    out.write_error = "cannot create locks in " + config_dir_.string();
    co_return out;
  }
  auto write_lock = co_await AcquireDirLock(StorageWriteLockPath(config_dir_), options_.write_lock);
  if (!write_lock) {
    out.not_writable = write_lock.error().code == kCodeLockDenied;
    out.write_error = write_lock.error().message;
    co_return out;
  }
  // Re-apply the response to what is on disk now, so a concurrent change to another field (the
  // CLI updating subscriptionType, say) survives.
  auto cas = file_.CompareAndSwap(*write_lock, expected_disk_rt, [&](ordered_json& oauth) {
    if (auto updated = ApplyTokenResponse(oauth, response_body, now)) {
      oauth = std::move(*updated);
    }
  });
  if (!cas) {
    out.not_writable = cas.error().code == kCodeNotWritable;
    out.write_error = cas.error().message;
    co_return out;
  }
  if (!cas->written) {
    out.outcome = "adopted_sibling";  // A sibling wrote newer tokens meanwhile: never clobber.
  }
  out.doc = std::move(cas->document);
  out.memory_only = false;
  co_return out;
}

Awaitable<FileCredentialSource::Outcome> FileCredentialSource::HandleInvalidGrant(
    const CredentialsDocument& base, bool memory_or_unlocked, const std::string& disk_rt_at_start,
    const RefreshFailure& failure) {
  Outcome out;
  // A sibling that ignored our lock (or an older CLI) may have rotated the token: re-read first.
  auto disk = file_.Read();
  if (disk && disk->oauth.refresh_token != disk_rt_at_start) {
    out.outcome = "adopted_sibling";
    out.doc = std::move(*disk);
    co_return out;
  }
  out.outcome = "dead";
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
    out.outcome = "adopted_sibling";
    out.dead = false;
    out.failure.reset();
  }
  if (cas) {
    out.doc = std::move(cas->document);
  }
  co_return out;
}

void FileCredentialSource::Finish(Outcome out) {
  std::shared_ptr<DoneChannel> done;
  {
    const std::lock_guard lock(mutex_);
    const auto now = Now();
    if (out.doc) {
      stamp_ = out.doc->stamp;
      doc_ = std::move(out.doc);
      memory_only_ = out.memory_only;
      load_error_.reset();
      loaded_ = true;
    }
    const std::string error = out.failure ? out.failure->Summary() : out.write_error;
    if (out.dead) {
      dead_refresh_token_ = out.dead_refresh_token;
      dead_reason_ = "the refresh was refused: " + error;
    }
    if (out.failure && !out.dead) {
      ++consecutive_failures_;
      const auto delay =
          out.failure->kind == RefreshFailureKind::kClientRejected
              ? options_.backoff.cap
              : options_.backoff.Delay(consecutive_failures_,
                                       std::uniform_real_distribution<double>(0.0, 1.0)(rng_));
      retry_after_ = now + delay;
      spdlog::warn("refreshing the Claude credentials ({}) failed: {}; next attempt in {} ms",
                   file_.Path().string(), error, delay.count());
    } else {
      consecutive_failures_ = 0;
      retry_after_ = {};
      // Guard against a token that is born inside the refresh margin: do not refresh on every call.
      if (doc_ && !out.dead && NeedsRefresh(doc_->oauth, now, options_.refresh_margin)) {
        retry_after_ = now + options_.backoff.initial;
      }
    }
    if (out.dead) {
      spdlog::error("the Claude refresh token in {} was refused ({}); run `claude login` again",
                    file_.Path().string(), error);
    } else if (!out.failure && doc_) {
      const auto expires = doc_->oauth.ExpiresAt();
      spdlog::info("Claude credentials {} ({}): access token expires at {} (in {} s)",
                   out.outcome == "refreshed" ? "refreshed" : "updated by another process",
                   file_.Path().string(), FormatTime(expires), SecondsBetween(now, expires));
    }
    if (!out.write_error.empty()) {
      if (!out.not_writable) {
        spdlog::warn("could not save refreshed Claude credentials: {}; keeping them in memory",
                     out.write_error);
      } else if (!not_writable_logged_) {
        not_writable_logged_ = true;
        spdlog::warn(
            "{} cannot be rewritten ({}); refreshed tokens are kept in memory only, so the Claude "
            "CLI sharing this file will have to log in again",
            file_.Path().string(), out.write_error);
      }
    }
    last_refresh_ = LastRefresh{now, out.outcome, error};
    ++refresh_counts_[out.outcome];
    refreshing_ = false;
    done = std::move(done_);
  }
  if (done) {
    done->close();  // Wakes every waiter; later receives complete at once.
  }
}

nlohmann::json FileCredentialSource::Status() const {
  const std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  const auto now = Now();
  nlohmann::json status = {{"source", "credentials_file"},
                           {"path", file_.Path().string()},
                           {"refreshing", refreshing_}};
  if (doc_) {
    const OAuthTokens& tokens = doc_->oauth;
    const bool dead = !dead_refresh_token_.empty() && dead_refresh_token_ == tokens.refresh_token;
    status["logged_out"] = tokens.LoggedOut() || dead;
    status["expires_at"] = FormatTime(tokens.ExpiresAt());
    status["expires_at_ms"] = tokens.expires_at_ms;
    status["seconds_until_expiry"] = SecondsBetween(now, tokens.ExpiresAt());
    status["subscription_type"] =
        tokens.subscription_type ? nlohmann::json(*tokens.subscription_type) : nlohmann::json();
    status["rate_limit_tier"] =
        tokens.rate_limit_tier ? nlohmann::json(*tokens.rate_limit_tier) : nlohmann::json();
    status["persisted"] = !memory_only_;
    if (dead) {
      status["error"] = dead_reason_;
    }
  } else {
    status["logged_out"] = true;
    status["error"] = load_error_ ? load_error_->message : "not loaded";
  }
  if (!refresh_counts_.empty()) {
    status["refresh_counts"] = refresh_counts_;
  }
  if (last_refresh_) {
    status["last_refresh"] = {{"at", FormatTime(last_refresh_->at)},
                              {"outcome", last_refresh_->outcome},
                              {"error", last_refresh_->error.empty()
                                            ? nlohmann::json()
                                            : nlohmann::json(last_refresh_->error)}};
  } else {
    status["last_refresh"] = nullptr;
  }
  if (retry_after_ > now) {
    status["next_refresh_attempt_in_seconds"] = SecondsBetween(now, retry_after_);
  }
  return status;
}

bool FileCredentialSource::Ready() const {
  const std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  if (!doc_ || doc_->oauth.LoggedOut()) {
    return false;
  }
  if (!dead_refresh_token_.empty() && dead_refresh_token_ == doc_->oauth.refresh_token) {
    return false;
  }
  const auto now = Now();
  return now < doc_->oauth.ExpiresAt() || now >= retry_after_;
}

}  // namespace claudegate::credentials
