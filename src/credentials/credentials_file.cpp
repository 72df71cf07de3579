#include "claudegate/credentials/credentials_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claudegate/credentials/file_lock.hpp"

namespace claudegate::credentials {
namespace {

using nlohmann::ordered_json;

// Larger than any real credentials file by orders of magnitude; guards against reading a
// mistakenly mounted huge file into memory.
constexpr off_t kMaxFileSize = 4 * 1024 * 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  [[nodiscard]] int Get() const { return fd_; }
  int Close() {
    int rc = 0;
    if (fd_ >= 0) {
      rc = ::close(fd_);
      fd_ = -1;
    }
    return rc;
  }

 private:
  int fd_;
};

FileStamp StampOf(const struct stat& st) {
  return FileStamp{
      true, st.st_dev, st.st_ino, st.st_size,
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// Errors that mean "this location cannot be rewritten", as opposed to a transient failure.
bool IsNotWritableErrno(int err) {
  return err == EROFS || err == EACCES || err == EPERM || err == EBUSY || err == EXDEV ||
         err == ELOOP;
}

FileError WriteError(std::string_view what, const std::filesystem::path& path, int err) {
  const auto problem =
      IsNotWritableErrno(err) ? FileProblem::kNotWritable : FileProblem::kWriteFailed;
  return FileError(problem, std::string(what) + " " + path.string() + ": " + ErrnoText(err));
}

std::string RandomHex8() {
  std::random_device device;
  const auto value = static_cast<std::uint32_t>(device());
  std::array<char, 9> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%08x", value);
  return {buffer.data(), 8};
}

bool WriteAll(int fd, const char* data, std::size_t size, int& err) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      err = errno;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Optional string field: missing or null → nullopt; any other non-string → corrupt.
bool OptionalString(const ordered_json& object, const char* key, std::optional<std::string>& out) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return true;
  }
  if (!it->is_string()) {
    return false;
  }
  out = it->get<std::string>();
  return true;
}

const char* FileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  if (S_ISCHR(mode) || S_ISBLK(mode)) {
    return "a device";
  }
  return "not a regular file";
}

FileError NotRegularError(const std::filesystem::path& path, mode_t mode) {
  return FileError(FileProblem::kUnreadable,
                   path.string() + " is " + FileTypeName(mode) +
                       ", not a regular file; replace it with the file `claude login` writes");
}

}  // namespace

std::string_view Label(FileProblem problem) {
  switch (problem) {
    case FileProblem::kAbsent:
      return "credentials_absent";
    case FileProblem::kCorrupt:
      return "credentials_corrupt";
    case FileProblem::kUnreadable:
      return "credentials_unreadable";
    case FileProblem::kNotWritable:
      return "credentials_not_writable";
    case FileProblem::kWriteFailed:
      return "credentials_write_failed";
  }
  return "credentials_unreadable";
}

Error ToError(const FileError& error) {
  const bool write =
      error.problem == FileProblem::kNotWritable || error.problem == FileProblem::kWriteFailed;
  return Error{write ? ErrorKind::kInternal : ErrorKind::kServiceUnavailable,
               error.message,
               {},
               std::string(Label(error.problem))};
}

void throw_exception_from_error(const FileError& error,
                                const boost::source_location& /*location*/) {
  throw ErrorException(ToError(error));
}

FileResult<OAuthTokens> ParseOAuth(const ordered_json& document) {
  const auto it = document.find("claudeAiOauth");
  if (it == document.end() || it->is_null()) {
    return FileError(FileProblem::kAbsent,
                     "the credentials file has no claudeAiOauth entry (not logged in)");
  }
  auto corrupt = [](std::string_view field) {
    return FileError(FileProblem::kCorrupt, "the credentials file is corrupt: claudeAiOauth." +
                                                std::string(field) + " has the wrong type");
  };
  const ordered_json& oauth = *it;
  if (!oauth.is_object()) {
    return FileError(FileProblem::kCorrupt,
                     "the credentials file is corrupt: claudeAiOauth is not an object");
  }
  OAuthTokens tokens;
  std::optional<std::string> text;
  if (!OptionalString(oauth, "accessToken", text)) {
    return corrupt("accessToken");
  }
  tokens.access_token = text.value_or("");
  text.reset();
  if (!OptionalString(oauth, "refreshToken", text)) {
    return corrupt("refreshToken");
  }
  tokens.refresh_token = text.value_or("");
  if (const auto e = oauth.find("expiresAt"); e != oauth.end() && !e->is_null()) {
    if (!e->is_number()) {
      return corrupt("expiresAt");
    }
    // Clamped to what system_clock can represent (its nanoseconds overflow past ~2262): a file
    // saying "expires in the year 30000" must mean "far future", not wrap into the past. Epoch-ms
    // values of real tokens are far below 2^53, so the double is exact for them.
    constexpr double kMaxExpiryMs = 9'000'000'000'000.0;  // ~2255
    const double value = e->get<double>();
    if (std::isnan(value)) {
      return corrupt("expiresAt");
    }
    tokens.expires_at_ms =
        static_cast<std::int64_t>(std::clamp(value, -kMaxExpiryMs, kMaxExpiryMs));
  }
  if (const auto s = oauth.find("scopes"); s != oauth.end() && !s->is_null()) {
    if (!s->is_array()) {
      return corrupt("scopes");
    }
    for (const auto& scope : *s) {
      if (!scope.is_string()) {
        return corrupt("scopes");
      }
      tokens.scopes.push_back(scope.get<std::string>());
    }
  }
  if (!OptionalString(oauth, "clientId", tokens.client_id)) {
    return corrupt("clientId");
  }
  if (!OptionalString(oauth, "subscriptionType", tokens.subscription_type)) {
    return corrupt("subscriptionType");
  }
  if (!OptionalString(oauth, "rateLimitTier", tokens.rate_limit_tier)) {
    return corrupt("rateLimitTier");
  }
  return tokens;
}

FileResult<CredentialsDocument> ParseCredentials(std::string_view text) {
  CredentialsDocument doc;
  // parse(…, nullptr, false) returns a discarded value instead of throwing.
  doc.document = ordered_json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.document.is_discarded() || !doc.document.is_object()) {
    return FileError(FileProblem::kCorrupt, "the credentials file is corrupt: not a JSON object");
  }
  auto oauth = ParseOAuth(doc.document);
  if (!oauth) {
    return oauth.error();
  }
  doc.oauth = std::move(*oauth);
  return doc;
}

CredentialsFile::CredentialsFile(std::filesystem::path path, WriteHook hook)
    : path_(std::move(path)), hook_(std::move(hook)) {}

FileStamp CredentialsFile::Stat() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return {};
  }
  return StampOf(st);
}

FileResult<CredentialsDocument> CredentialsFile::Read() const {
  // Never block: open(2) of a FIFO waits for a writer, and this runs on an io thread (a FIFO at
  // this path once hung the whole daemon, liveness probe included). Symlinks are followed on
  // purpose: a mounted CLI volume may legitimately link the file elsewhere. The type is checked
  // before opening (so no device is ever opened) and again on the open descriptor (the path may
  // have been swapped in between); O_NONBLOCK keeps even that window from blocking.
  struct stat pre {};
  if (::stat(path_.c_str(), &pre) == 0 && !S_ISREG(pre.st_mode)) {
    return NotRegularError(path_, pre.st_mode);
  }
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.Get() < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return FileError(FileProblem::kAbsent, "no credentials file at " + path_.string());
    }
    return FileError(FileProblem::kUnreadable,
                     "cannot read " + path_.string() + ": " + ErrnoText(err));
  }
  struct stat st {};
  if (::fstat(fd.Get(), &st) != 0) {
    return FileError(FileProblem::kUnreadable,
                     "cannot read " + path_.string() + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return NotRegularError(path_, st.st_mode);
  }
  if (st.st_size > kMaxFileSize) {
    return FileError(FileProblem::kUnreadable,
                     path_.string() + " is too large for a credentials file");
  }
  std::string text;
  std::array<char, 8192> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd.Get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return FileError(FileProblem::kUnreadable,
                       "cannot read " + path_.string() + ": " + ErrnoText(errno));
    }
    if (n == 0) {
      break;
    }
    text.append(buffer.data(), static_cast<std::size_t>(n));
    if (text.size() > static_cast<std::size_t>(kMaxFileSize)) {
      return FileError(FileProblem::kUnreadable, path_.string() + " is too large");
    }
  }
  auto parsed = ParseCredentials(text);
  if (!parsed) {
    FileError error = parsed.error();
    error.message += " (" + path_.string() + ")";
    return error;
  }
  parsed->stamp = StampOf(st);
  return parsed;
}

FileResult<void> CredentialsFile::Write(const ordered_json& document) const {
  const auto hook = [this](WriteStep step) { return hook_ ? hook_(step) : 0; };
  // Like CLI 2.1.330: refuse to replace a symlink or other non-regular file (replacing a symlink
  // would silently detach it from the file it points to).
  struct stat old {};
  const bool had_old = ::lstat(path_.c_str(), &old) == 0;
  if (had_old && !S_ISREG(old.st_mode)) {
    return FileError(FileProblem::kNotWritable,
                     path_.string() + " is not a regular file; not replacing it");
  }
  const std::string text = document.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  const std::filesystem::path temp = path_.string() + std::string(kTempInfix) + RandomHex8();

  if (const int err = hook(WriteStep::kCreateTemp); err != 0) {
    return WriteError("cannot create", temp, err);
  }
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.Get() < 0) {
    return WriteError("cannot create", temp, errno);
  }
  auto fail = [&](std::string_view what, const std::filesystem::path& where, int err) {
    fd.Close();
    ::unlink(temp.c_str());
    return WriteError(what, where, err);
  };
  // The umask can only narrow 0600, but chmod anyway like the CLI. Keep the old owner so a CLI
  // running as another user can still read the file when we run as root (fails harmlessly
  // otherwise).
  if (::fchmod(fd.Get(), 0600) != 0) {
    return fail("cannot chmod", temp, errno);
  }
  if (had_old && (old.st_uid != ::geteuid() || old.st_gid != ::getegid())) {
    (void)::fchown(fd.Get(), old.st_uid, old.st_gid);
  }
  int err = 0;
  const std::size_t half = text.size() / 2;
  if (!WriteAll(fd.Get(), text.data(), half, err) || (err = hook(WriteStep::kHalfWritten)) != 0 ||
      !WriteAll(fd.Get(), text.data() + half, text.size() - half, err) ||
      (err = hook(WriteStep::kWritten)) != 0) {
    return fail("cannot write", temp, err);
  }
  if (::fsync(fd.Get()) != 0) {
    return fail("cannot fsync", temp, errno);
  }
  if (fd.Close() != 0) {
    return fail("cannot close", temp, errno);
  }
  if ((err = hook(WriteStep::kSynced)) != 0) {
    return fail("cannot rename onto", path_, err);
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    return fail("cannot rename onto", path_, errno);
  }
  if ((err = hook(WriteStep::kRenamed)) != 0) {
    return WriteError("cannot fsync the directory of", path_, err);
  }
  // Make the rename itself durable. Some file systems reject fsync on a directory (EINVAL); the
  // data is then as durable as that file system allows.
  const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.Get() >= 0 && ::fsync(dir_fd.Get()) != 0 && errno != EINVAL) {
    return WriteError("cannot fsync the directory of", path_, errno);
  }
  if ((err = hook(WriteStep::kDone)) != 0) {
    return WriteError("after writing", path_, err);
  }
  return {};
}

FileResult<CasResult> CredentialsFile::CompareAndSwap(
    const DirLock& write_lock, std::string_view expected_refresh_token,
    const std::function<void(ordered_json& oauth)>& mutate) const {
  return CompareAndSwap(
      write_lock,
      [expected_refresh_token](const OAuthTokens& disk) {
        return disk.refresh_token == expected_refresh_token;
      },
      mutate);
}

FileResult<CasResult> CredentialsFile::CompareAndSwap(
    const DirLock& write_lock, const std::function<bool(const OAuthTokens& disk)>& accept,
    const std::function<void(ordered_json& oauth)>& mutate) const {
  if (!write_lock.Held()) {
    return FileError(FileProblem::kWriteFailed,
                     "CompareAndSwap called without the storage-write lock");
  }
  auto current = Read();
  if (!current) {
    return current.error();
  }
  if (!accept(current->oauth)) {
    return CasResult{false, std::move(*current)};
  }
  CredentialsDocument updated = std::move(*current);
  mutate(updated.document["claudeAiOauth"]);
  auto oauth = ParseOAuth(updated.document);
  if (!oauth) {
    return oauth.error();
  }
  updated.oauth = std::move(*oauth);
  if (auto written = Write(updated.document); !written) {
    return written.error();
  }
  updated.stamp = Stat();
  return CasResult{true, std::move(updated)};
}

}  // namespace claudegate::credentials
