#include "database_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claudegate/store/make_store.hpp"

#include "connection.hpp"

namespace claudegate::store::sqlite {
namespace {

// mkdir -p with mode 0700 for every directory it creates; existing ones are left as they are.
void CreateDirectories(const std::string& dir) {
  std::filesystem::path prefix;
  for (const auto& part : std::filesystem::path(dir)) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      throw DbError(SQLITE_CANTOPEN,
                    "cannot create the directory " + prefix.string() + ": " + std::strerror(errno));
    }
  }
}

// SQLite creates a database 0644 (less the umask) and gives its -wal and -shm files the
// database's mode (https://www.sqlite.org/tempfiles.html): creating it 0600 first keeps all
// three private to the daemon's user.
//
// O_EXCL: an existing file is never opened here. Closing any descriptor of a file drops every
// POSIX lock this process holds on it, including those of a SQLite connection already open on
// it (https://www.sqlite.org/howtocorrupt.html, section 2.2): the key store opens the file after
// the response store, and a plain open/close here released the response store's locks, so
// another process (`claudegate key`) took itself for the last connection, checkpointed and
// reset the WAL under the daemon, whose key connection then read a stale version forever
// (found by Keys.TheKeyCommandSharesTheStoreWithARunningGateway).
void CreatePrivateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return;  // SQLite opens it; its mode is whatever the file already has
    }
    throw DbError(SQLITE_CANTOPEN, "cannot open " + path + ": " + std::strerror(errno));
  }
  ::close(fd);  // a new file: no connection can hold a lock on it yet
}

}  // namespace

std::string CreateDatabaseFile(const config::Store& settings) {
  if (settings.data_dir.empty()) {
    throw DbError(SQLITE_CANTOPEN, "no data directory is configured");
  }
  CreateDirectories(settings.data_dir);
  std::string path = DatabasePath(settings);
  CreatePrivateFile(path);
  return path;
}

}  // namespace claudegate::store::sqlite
