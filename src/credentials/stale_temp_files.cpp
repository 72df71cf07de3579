// Start-up housekeeping: temporary files that a crashed write left next to .credentials.json.
#include <cctype>
#include <optional>
#include <system_error>

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claudegate/credentials/credentials_file.hpp"

namespace claudegate::credentials {
namespace {

bool IsHex8(std::string_view text) {
  if (text.size() != 8) {
    return false;
  }
  for (const char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return true;
}

// The minimum age for `name` to count as abandoned, or nullopt when it is not a temporary file of
// `base` at all.
std::optional<std::chrono::seconds> MinAgeFor(std::string_view name, const std::string& base,
                                              const StaleTempPolicy& policy) {
  if (!name.starts_with(base)) {
    return std::nullopt;
  }
  name.remove_prefix(base.size());
  if (name.starts_with(kTempInfix) && IsHex8(name.substr(kTempInfix.size()))) {
    return policy.ours;
  }
  constexpr std::string_view kLegacyInfix = ".tmp.";
  if (name.starts_with(kLegacyInfix) && IsHex8(name.substr(kLegacyInfix.size()))) {
    return policy.legacy;
  }
  return std::nullopt;
}

}  // namespace

std::size_t RemoveStaleTempFiles(const std::filesystem::path& credentials_path,
                                 std::chrono::system_clock::time_point now,
                                 StaleTempPolicy policy) {
  const auto dir = credentials_path.has_parent_path() ? credentials_path.parent_path()
                                                      : std::filesystem::path(".");
  const std::string base = credentials_path.filename().string();
  std::size_t removed = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto min_age = MinAgeFor(name, base, policy);
    if (!min_age) {
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;  // Never follow a symlink or touch anything but a plain file.
    }
    const auto mtime = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) +
            std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    if (now - mtime < *min_age) {
      continue;  // Possibly a write in progress (ours in another replica, or the CLI's).
    }
    if (::unlink(it->path().c_str()) == 0) {
      ++removed;
      spdlog::info("removed {} left behind by an interrupted credentials write", name);
    }
  }
  return removed;
}

}  // namespace claudegate::credentials
