/// @file credentials_file.hpp
/// Reading and rewriting the Claude CLI's `<configdir>/.credentials.json` without losing anything
/// the CLI (or a later CLI version) stored in it.
///
/// The whole document is kept as `nlohmann::ordered_json` so a rewrite preserves every other
/// top-level key (`mcpOAuth`, `pluginSecrets`, …), every unknown field inside `claudeAiOauth`, and
/// the key order the CLI wrote. See docs/anthropic-notes.md#oauth-credentials-file.
///
/// @par Thread Safety
/// `CredentialsFile` holds only the path and a test hook; its methods do blocking file I/O on the
/// calling thread and may be called from several threads at once. Cross-process exclusion is the
/// caller's job: hold the `.storage-write.lock` (file_lock.hpp) around `CompareAndSwap()`.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include "claudegate/error.hpp"

namespace claudegate::credentials {

class DirLock;

/// What is wrong with the credentials file, so callers can tell the failures apart. `Label()` names
/// it in logs and status output, and `ToError()` turns it into the client-facing `Error` (whose
/// `code` is the label).
enum class FileProblem {
  kAbsent,      ///< No file, or no `claudeAiOauth` ("credentials_absent").
  kCorrupt,     ///< Not the JSON we expect ("credentials_corrupt").
  kUnreadable,  ///< EACCES, EIO, not a regular file, too large ("credentials_unreadable").
  /// The file cannot be replaced: read-only volume, no permission, a bind-mounted single file
  /// (`EBUSY`/`EXDEV` on rename) or a symlink/non-regular target. Callers keep tokens in memory
  /// ("credentials_not_writable").
  kNotWritable,
  kWriteFailed,  ///< ENOSPC, EIO… ("credentials_write_failed").
};

/// The stable name of a file problem (the `Error::code` a client sees, and the log label).
[[nodiscard]] std::string_view Label(FileProblem problem);

/// A failure of this module: the typed problem and a message (never a token value).
struct FileError {
  FileError() = default;  // boost::system::result needs it.
  FileError(FileProblem file_problem, std::string text)
      : problem(file_problem), message(std::move(text)) {}
  FileProblem problem = FileProblem::kUnreadable;
  std::string message;
};

/// The result type of this module.
template <typename T>
using FileResult = boost::system::result<T, FileError>;

/// The client-edge form: `kServiceUnavailable` for read problems (the gateway cannot serve without
/// credentials), `kInternal` for write problems; `code` is `Label(problem)`.
[[nodiscard]] Error ToError(const FileError& error);

/// ADL hook that makes `FileResult<T>::value()` usable (throws `ErrorException`).
[[noreturn]] void throw_exception_from_error(  // NOLINT(readability-identifier-naming)
    const FileError& error, const boost::source_location& location);

/// Our temporary files are `<path>.tmp.claudegate.<8 hex>`: distinct from the CLI's
/// `<path>.tmp.<8 hex>`, so that clean-up can tell its own leftovers apart.
inline constexpr std::string_view kTempInfix = ".tmp.claudegate.";

/// How old a leftover temporary file must be before `RemoveStaleTempFiles()` deletes it. A write
/// creates, fills and renames its temporary file within milliseconds, so anything this old was
/// abandoned by a crash (kill -9, power loss) between creating and renaming it.
struct StaleTempPolicy {
  std::chrono::seconds ours{60};  ///< `<path>.tmp.claudegate.<8 hex>`.
  /// `<path>.tmp.<8 hex>`: what earlier claudegate versions wrote, and also CLI 2.1.197's pattern,
  /// so only removed once no live writer can possibly own it.
  std::chrono::seconds legacy{3600};
};

/// Deletes abandoned temporary files next to `credentials_path` (regular files only, matching one
/// of the two patterns exactly, older than the policy says; never anything else in the
/// directory). Returns how many were removed. Errors are ignored: this is housekeeping, and a
/// leftover temporary file never affects correctness (it is never read).
std::size_t RemoveStaleTempFiles(const std::filesystem::path& credentials_path,
                                 std::chrono::system_clock::time_point now,
                                 StaleTempPolicy policy = {});

/// The `claudeAiOauth` fields claudegate understands. Everything else stays in the JSON document.
struct OAuthTokens {
  std::string access_token;
  std::string refresh_token;       ///< `""` (or missing) is the CLI's logged-out / dead marker.
  std::int64_t expires_at_ms = 0;  ///< ms since the Unix epoch; 0 when missing.
  std::vector<std::string> scopes;
  std::optional<std::string> client_id;  ///< Absent for the default Claude Code client.
  std::optional<std::string> subscription_type;
  std::optional<std::string> rate_limit_tier;

  /// True when the CLI marked these credentials logged out or dead (`refreshToken: ""`).
  [[nodiscard]] bool LoggedOut() const { return refresh_token.empty(); }
  /// `expiresAt` as a time point.
  [[nodiscard]] std::chrono::system_clock::time_point ExpiresAt() const {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(expires_at_ms));
  }
};

/// Identity of one version of the file: a rewrite by rename changes the inode, an in-place write
/// changes size or mtime. Compared to notice another process's write cheaply (one `stat`).
struct FileStamp {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

/// One parsed version of the file.
struct CredentialsDocument {
  nlohmann::ordered_json document;  ///< The whole file, unknown keys included.
  OAuthTokens oauth;                ///< Parsed view of `document["claudeAiOauth"]`.
  FileStamp stamp;                  ///< Of the version read (from `fstat` of the open file).
};

/// Parses `claudeAiOauth` out of a whole document. Errors: `FileProblem::kAbsent` when the key is
/// missing or null (nobody logged in), `kCorrupt` when it or one of its known fields has the wrong
/// type.
[[nodiscard]] FileResult<OAuthTokens> ParseOAuth(const nlohmann::ordered_json& document);

/// Parses file content. Errors: `FileProblem::kCorrupt` (not a JSON object, bad field types) and
/// `kAbsent` (no `claudeAiOauth`). Messages never contain token values.
[[nodiscard]] FileResult<CredentialsDocument> ParseCredentials(std::string_view text);

/// Result of `CredentialsFile::CompareAndSwap()`.
struct CasResult {
  bool written = false;          ///< False: the on-disk refresh token differed; nothing written.
  CredentialsDocument document;  ///< What is on disk now (the new version when written).
};

/// The `.credentials.json` file of one config directory.
class CredentialsFile {
 public:
  /// Steps of `Write()` at which the test hook is called.
  enum class WriteStep {
    kCreateTemp,   ///< Before the temp file is created.
    kHalfWritten,  ///< Half of the bytes are in the temp file.
    kWritten,      ///< All bytes written, not yet fsynced.
    kSynced,       ///< Temp file fsynced and closed, not yet renamed.
    kRenamed,      ///< Renamed over the target, directory not yet fsynced.
    kDone,         ///< Directory fsynced.
  };
  /// Test hook: return an errno to make `Write()` fail at that step as if a syscall had failed
  /// (`EROFS` simulates a read-only volume even for root), or 0 to proceed.
  using WriteHook = std::function<int(WriteStep)>;

  /// `path` is the file itself, normally `<configdir>/.credentials.json`.
  explicit CredentialsFile(std::filesystem::path path, WriteHook hook = {});

  [[nodiscard]] const std::filesystem::path& Path() const { return path_; }

  /// Cheap change detection: `exists == false` when the file is absent or cannot be stat'ed.
  [[nodiscard]] FileStamp Stat() const;

  /// Reads and parses the file. Errors: `FileProblem::kAbsent` (no file, or no `claudeAiOauth`),
  /// `kCorrupt`, `kUnreadable`.
  [[nodiscard]] FileResult<CredentialsDocument> Read() const;

  /// Atomically replaces the file with `document` serialised compactly (like the CLI's
  /// `JSON.stringify`): a temp file `<path>.tmp.claudegate.<8 hex>` created `O_EXCL` with mode 0600
  /// in the same directory (owner copied from the old file when permitted), written, fsynced,
  /// renamed over the target, then the directory fsynced. The target is never written in place, so
  /// readers see the old or the new complete document. Errors: `FileProblem::kNotWritable`,
  /// `kWriteFailed`; the temp file is removed on failure.
  [[nodiscard]] FileResult<void> Write(const nlohmann::ordered_json& document) const;

  /// Re-reads the file and, only if its `refreshToken` still equals `expected_refresh_token`,
  /// applies `mutate` to its `claudeAiOauth` object and writes the result; otherwise writes nothing
  /// and returns what is on disk so the caller adopts it. `write_lock` must be the held
  /// `.storage-write.lock` (it is a proof argument; the CLI re-reads under the same lock).
  /// Errors: those of `Read()` and `Write()`.
  [[nodiscard]] FileResult<CasResult> CompareAndSwap(
      const DirLock& write_lock, std::string_view expected_refresh_token,
      const std::function<void(nlohmann::ordered_json& oauth)>& mutate) const;

  /// As above, but writes when `accept(tokens on disk)` is true: used after a refresh, whose new
  /// tokens replace not only the refresh token read before the request but also the one it sent
  /// and the CLI's dead marker `""` (CLI 2.1.330 does the same; reference: docs/credentials.md).
  [[nodiscard]] FileResult<CasResult> CompareAndSwap(
      const DirLock& write_lock, const std::function<bool(const OAuthTokens& disk)>& accept,
      const std::function<void(nlohmann::ordered_json& oauth)>& mutate) const;

 private:
  std::filesystem::path path_;
  WriteHook hook_;
};

}  // namespace claudegate::credentials
