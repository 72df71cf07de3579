// Private to the two halves of FileCredentialSource (file_credential_source.cpp: serving and
// state; file_credential_refresh.cpp: the refresh and the save retries): the nested types and
// helpers both use. Not a public header: include it from those two files only.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "claudegate/credentials/file_credential_source.hpp"

namespace claudegate::credentials {
namespace file_source_internal {

using nlohmann::ordered_json;
using std::chrono::system_clock;

inline std::string FormatTime(system_clock::time_point t) {
  const std::time_t seconds = system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  std::array<char, 32> buffer{};
  const auto n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return {buffer.data(), n};
}

inline std::int64_t SecondsBetween(system_clock::time_point from, system_clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

// RefreshFailure::error for failures that happen before any token request (no OAuth error).
inline constexpr std::string_view kStorageLockBusy = "storage_lock_busy";
inline constexpr std::string_view kUnreadable = "unreadable";
inline constexpr std::string_view kInternal = "internal";
inline constexpr std::string_view kMalformedResponse = "malformed_response";

// Failures that mean "this location cannot be rewritten": refreshed tokens stay in memory.
inline bool NotWritable(const LockError& error) { return error.failure == LockFailure::kDenied; }
inline bool NotWritable(const FileError& error) {
  return error.problem == FileProblem::kNotWritable;
}

// Runs `work` on a private strand and awaits it. Asio's `||` runs both operands on the current
// executor; on an io_context driven by several threads the winner's cancellation of the loser
// would race with the loser's own progress unless that executor is a strand.
template <typename T>
Awaitable<T> OnStrand(Awaitable<T> work) {
  auto strand = net::make_strand(co_await net::this_coro::executor);
  co_return co_await net::co_spawn(strand, std::move(work), net::use_awaitable);
}

}  // namespace file_source_internal

using file_source_internal::ordered_json;
using file_source_internal::system_clock;

// Refreshed tokens that are not on disk yet. The token response is kept (rather than the new
// `claudeAiOauth` object) so that a later save re-applies it to whatever the file holds then,
// keeping concurrent changes to other fields, exactly as the first attempt does.
struct FileCredentialSource::PendingSave {
  std::uint64_t generation = 0;
  std::string response_body;            // Holds tokens: never logged.
  system_clock::time_point applied_at;  // The `now` the response is applied with.
  std::string refresh_token;            // What the file must end up holding.
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

}  // namespace claudegate::credentials
