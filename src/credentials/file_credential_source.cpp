// FileCredentialSource: loading and serving the token, the decision to refresh, and the state
// reported to /health and /metrics. The refresh itself is in file_credential_refresh.cpp.

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

#include <exception>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>

#include "file_credential_source_internal.hpp"

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic pop
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace claudegate::credentials {

// This class's own helpers and nested types (file_credential_source_internal.hpp).
using namespace file_source_internal;  // NOLINT(google-build-using-namespace)

namespace {

Error Unavailable(std::string message) {
  return Error{ErrorKind::kCredentialUnavailable, std::move(message), {}, {}};
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
  client.kind = ErrorKind::kCredentialUnavailable;
  return client;
}

}  // namespace

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
    d.result = Unavailable(
        "the Claude credentials in " + file_.Path().string() + " are logged out" +
        (dead_reason_.empty() ? "" : " (" + dead_reason_ + ")") + ": run `claude login` again");
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
    return Error{
        rejected_current ? ErrorKind::kUpstreamAuthentication : ErrorKind::kServiceUnavailable,
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
    d.result =
        fallback("refreshing the Claude credentials failed (" + last_error + "); next attempt in " +
                 std::to_string(SecondsBetween(now, retry_after_)) + " s");
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

nlohmann::json FileCredentialSource::Status() const {
  const std::lock_guard lock(mutex_);
  ReloadIfChangedLocked();
  const auto now = Now();
  nlohmann::json status = {
      {"source", "credentials_file"}, {"path", file_.Path().string()}, {"refreshing", refreshing_}};
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
