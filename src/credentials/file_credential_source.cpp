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

#include <algorithm>
#include <array>
#include <ctime>
#include <exception>
#include <spdlog/spdlog.h>
#include <variant>
#include <vector>

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

// Adds to a file error's message what to do about it.
FileError WithGuidance(FileError error, const std::filesystem::path& path) {
  if (error.problem == FileProblem::kAbsent) {
    error.message = "no Claude credentials in " + path.string() +
                    ": log in with the official Claude CLI (`claude login`) so it writes this "
                    "file, mount the directory that holds it (the claude-auth volume at "
                    "/home/claude/.claude; CLAUDE_CONFIG_DIR selects another directory), or set "
                    "CLAUDE_CODE_OAUTH_TOKEN to a token from `claude setup-token`";
  } else if (error.problem == FileProblem::kCorrupt) {
    error.message += "; run `claude login` to rewrite it";
  } else if (error.problem == FileProblem::kUnreadable) {
    error.message += "; the gateway's user must be able to read the file";
  }
  return error;
}

// What a caller gets while the file cannot be used: 503, the problem's label as `code`.
Error LoadFailure(const FileError& error) {
  Error client = ToError(error);
  client.kind = ErrorKind::kServiceUnavailable;
  return client;
}

// RefreshFailure::error for failures that happen before any token request (no OAuth error).
constexpr std::string_view kStorageLockBusy = "storage_lock_busy";
constexpr std::string_view kUnreadable = "unreadable";
constexpr std::string_view kInternal = "internal";
constexpr std::string_view kMalformedResponse = "malformed_response";

// Failures that mean "this location cannot be rewritten": refreshed tokens stay in memory.
bool NotWritable(const LockError& error) { return error.failure == LockFailure::kDenied; }
bool NotWritable(const FileError& error) { return error.problem == FileProblem::kNotWritable; }

// Runs `work` on a private strand and awaits it. Asio's `||` runs both operands on the current
// executor; on an io_context driven by several threads the winner's cancellation of the loser
// would race with the loser's own progress unless that executor is a strand.
template <typename T>
Awaitable<T> OnStrand(Awaitable<T> work) {
  auto strand = net::make_strand(co_await net::this_coro::executor);
  co_return co_await net::co_spawn(strand, std::move(work), net::use_awaitable);
}

}  // namespace

// Refreshed tokens that are not on disk yet. The token response is kept (rather than the new
// `claudeAiOauth` object) so that a later save re-applies it to whatever the file holds then,
// keeping concurrent changes to other fields, exactly as the first attempt does.
struct FileCredentialSource::PendingSave {
  std::uint64_t generation = 0;
  std::string response_body;          // Holds tokens: never logged.
  system_clock::time_point applied_at;  // The `now` the response is applied with.
  std::string refresh_token;          // What the file must end up holding.
  // Refresh tokens on disk that these tokens supersede: the one read before the request, the one
  // the request sent, and the CLI's dead marker "" (written when a sibling tried the old token).
  std::vector<std::string> replaceable;
  system_clock::time_point since;
  int attempts = 0;
  std::string error;
  bool not_writable = false;

  [[nodiscard]] bool Replaces(const OAuthTokens& disk) const {
    return std::find(replaceable.begin(), replaceable.end(), disk.refresh_token) !=
           replaceable.end();
  }
  // The CAS mutation: these tokens applied to the file's current `claudeAiOauth`.
  void ApplyTo(ordered_json& oauth) const {
    const auto old_rt = oauth.is_object() ? oauth.find("refreshToken") : oauth.end();
    const bool was_dead = !oauth.is_object() || old_rt == oauth.end() || !old_rt->is_string() ||
                          old_rt->get<std::string>().empty();
    if (auto updated = ApplyTokenResponse(oauth, response_body, applied_at)) {
      oauth = std::move(*updated);
    }
    oauth["refreshToken"] = refresh_token;
    if (was_dead) {
      oauth.erase("loginEnded");  // CLI 2.1.330's reason for its dead marker; no longer true.
    }
  }
  // The disk version with these tokens applied, as served while the save is pending.
  [[nodiscard]] std::optional<CredentialsDocument> Overlay(const CredentialsDocument& disk) const {
    CredentialsDocument doc = disk;
    ApplyTo(doc.document["claudeAiOauth"]);
    auto parsed = ParseOAuth(doc.document);
    if (!parsed) {
      return std::nullopt;
    }
    doc.oauth = std::move(*parsed);
    return doc;
  }
};

struct FileCredentialSource::Decision {
  std::optional<Result<Credential>> result;
  std::shared_ptr<DoneChannel> wait_on;
  bool start = false;
  std::string access_at_start;
};

struct FileCredentialSource::Outcome {
  RefreshOutcome outcome = RefreshOutcome::kFailed;
  std::optional<CredentialsDocument> doc;  // New state to adopt.
  std::optional<PendingSave> pending;      // doc holds these tokens, not yet saved.
  bool keep_pending = false;               // doc is the overlay of the save already pending.
  std::optional<RefreshFailure> failure;
  bool dead = false;
  std::string dead_refresh_token;
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
      options_(std::move(options)) {
  // Leftovers of writes interrupted by a crash hold (old) tokens: remove ours once abandoned.
  RemoveStaleTempFiles(file_.Path(), system_clock::now());
}

FileCredentialSource::~FileCredentialSource() = default;

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
  ReconcileLocked(file_.Read(), current);
}

void FileCredentialSource::ReconcileLocked(FileResult<CredentialsDocument> read,
                                           const FileStamp& current) const {
  if (pending_) {
    // Unsaved tokens are the only valid ones once the refresh rotated the refresh token: keep
    // serving them over any version of the file they supersede (another field changed, or the
    // CLI marked the old token dead), and over a file that cannot be read right now.
    if (!read) {
      stamp_ = current;
      return;
    }
    if (pending_->Replaces(read->oauth)) {
      if (auto overlay = pending_->Overlay(*read)) {
        stamp_ = read->stamp;
        doc_ = std::move(*overlay);
        load_error_.reset();
        return;
      }
    }
    if (read->oauth.refresh_token != pending_->refresh_token) {
      spdlog::warn(
          "{} now holds a different login; dropping the refreshed tokens that were not saved yet",
          file_.Path().string());
    }
    pending_.reset();  // Saved (the file holds our refresh token) or superseded by a new login.
  }
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
    d.result = LoadFailure(*load_error_);
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
  // A still-valid token is served at once while a proactive refresh runs in the background (a
  // hanging token endpoint must not stall requests that have a working token).
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
    if (usable) {
      d.result = credential;
    } else if (may_start) {
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
    d.start = true;
    d.access_at_start = tokens.access_token;
    if (usable) {
      d.result = credential;
    } else {
      d.wait_on = done_;
    }
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
    if (d.result) {
      co_return std::move(*d.result);
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

void FileCredentialSource::Finish(Outcome out) {
  std::shared_ptr<DoneChannel> done;
  bool start_save_loop = false;
  {
    const std::lock_guard lock(mutex_);
    const auto now = Now();
    if (out.doc) {
      stamp_ = out.doc->stamp;
      doc_ = std::move(out.doc);
      load_error_.reset();
      loaded_ = true;
      if (out.pending) {
        if (pending_) {
          out.pending->since = pending_->since;  // Unsaved since the first unsaved refresh.
        }
        pending_ = std::make_unique<PendingSave>(std::move(*out.pending));
        pending_->generation = ++pending_generation_;
        start_save_loop = !save_loop_running_;
        save_loop_running_ = true;
      } else if (!out.keep_pending) {
        pending_.reset();
      }
    }
    const std::string error = out.failure ? out.failure->Summary() : std::string();
    if (out.dead) {
      dead_refresh_token_ = out.dead_refresh_token;
      dead_reason_ = "the refresh was refused: " + error;
      if (pending_ && pending_->refresh_token == out.dead_refresh_token) {
        pending_.reset();  // Nothing worth saving: the unsaved refresh token itself was refused.
      }
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
      spdlog::info(
          "Claude credentials {} ({}): access token expires at {} (in {} s)",
          out.outcome == RefreshOutcome::kRefreshed ? "refreshed" : "updated by another process",
          file_.Path().string(), FormatTime(expires), SecondsBetween(now, expires));
    }
    if (out.pending && pending_) {
      LogUnsavedLocked();
    }
    last_refresh_ = LastRefresh{now, out.outcome, error};
    ++refresh_counts_[static_cast<std::size_t>(out.outcome)];
    refreshing_ = false;
    done = std::move(done_);
  }
  if (done) {
    done->close();  // Wakes every waiter; later receives complete at once.
  }
  if (start_save_loop) {
    net::co_spawn(executor_, SaveLoop(shared_from_this()), [](const std::exception_ptr& e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("bug: credential save task threw: {}", ex.what());
        }
      }
    });
  }
}

void FileCredentialSource::LogUnsavedLocked() const {
  if (!pending_->not_writable) {
    spdlog::warn(
        "could not save the refreshed Claude credentials to {} ({}); holding them in memory and "
        "retrying the save in the background (a restart before it lands would lose the new "
        "refresh token)",
        file_.Path().string(), pending_->error);
  } else if (!not_writable_logged_) {
    not_writable_logged_ = true;
    spdlog::warn(
        "{} cannot be rewritten ({}); refreshed tokens are kept in memory and the save is retried "
        "in the background; until it lands the Claude CLI sharing this file will have to log in "
        "again",
        file_.Path().string(), pending_->error);
  }
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
    status["persisted"] = pending_ == nullptr;
    if (dead) {
      status["error"] = dead_reason_;
    }
  } else {
    status["logged_out"] = true;
    status["error"] = load_error_ ? load_error_->message : "not loaded";
  }
  // Only the outcomes that happened, as the metrics counter expects.
  nlohmann::json counts = nlohmann::json::object();
  for (std::size_t i = 0; i < refresh_counts_.size(); ++i) {
    if (refresh_counts_[i] != 0) {
      counts[std::string(Label(static_cast<RefreshOutcome>(i)))] = refresh_counts_[i];
    }
  }
  if (!counts.empty()) {
    status["refresh_counts"] = std::move(counts);
  }
  if (last_refresh_) {
    status["last_refresh"] = {
        {"at", FormatTime(last_refresh_->at)},
        {"outcome", Label(last_refresh_->outcome)},
        {"error",
         last_refresh_->error.empty() ? nlohmann::json() : nlohmann::json(last_refresh_->error)}};
  } else {
    status["last_refresh"] = nullptr;
  }
  if (retry_after_ > now) {
    status["next_refresh_attempt_in_seconds"] = SecondsBetween(now, retry_after_);
  }
  // Refreshed tokens not on disk yet: the only copy of the rotated refresh token is in memory.
  if (pending_) {
    status["unsaved"] = {{"since", FormatTime(pending_->since)},
                         {"attempts", pending_->attempts},
                         {"error", pending_->error}};
  } else {
    status["unsaved"] = nullptr;
  }
  return status;
}

bool FileCredentialSource::Ready() const { return ReadinessState() == Readiness::kReady; }

Readiness FileCredentialSource::ReadinessState() const {
  const std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  return ReadinessLocked();
}

Readiness FileCredentialSource::ReadinessLocked() const {
  if (!doc_) {
    return load_error_ && load_error_->problem == FileProblem::kAbsent ? Readiness::kNotLoggedIn
                                                                       : Readiness::kUnusable;
  }
  if (doc_->oauth.LoggedOut() ||
      (!dead_refresh_token_.empty() && dead_refresh_token_ == doc_->oauth.refresh_token)) {
    return Readiness::kNotLoggedIn;
  }
  const auto now = Now();
  return now < doc_->oauth.ExpiresAt() || now >= retry_after_ ? Readiness::kReady
                                                              : Readiness::kExpired;
}

}  // namespace claudegate::credentials
