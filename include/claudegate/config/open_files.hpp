/// @file open_files.hpp
/// Fitting the connection limits to the process's open-file limit (RLIMIT_NOFILE).
///
/// Every client connection is one descriptor, and while it is served it may hold one upstream
/// connection (a second descriptor); the keep-alive pool holds up to `max_idle_connections` more.
/// With a 1,024 soft limit (a common default) and `max_connections: 4096`, the listener ran out of
/// descriptors long before its own limit and `accept()` failed with EMFILE (issue 14, finding 2).
/// So at start-up the soft limit is raised to the hard one, and the limits are clamped to what
/// is left after a reserve for everything else the process opens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace claudegate::config {

/// Descriptors kept back for everything that is not a connection: stdio, the listener, each io
/// thread's epoll/eventfd/timerfd, signal handling, the credentials file, its lock and temporary
/// file, the CA bundle while it is read.
[[nodiscard]] std::uint64_t OpenFilesReserve(unsigned threads);

/// What the connection limits become under an open-file limit.
struct ConnectionBudget {
  std::size_t max_connections = 0;
  std::size_t max_idle_connections = 0;
  bool clamped = false;  ///< True when either value was lowered.
};

/// Fits `max_connections` and the upstream pool's `max_idle_connections` into `open_files`
/// descriptors minus `reserve`: 2 × connections + idle ≤ open_files − reserve. The pool is never
/// larger than `max_connections` (more idle upstream connections than clients cannot be used).
/// When clamping, the pool gets at most a third of the usable descriptors and the connections
/// the rest; at least one connection is always allowed.
[[nodiscard]] ConnectionBudget FitConnectionsToOpenFiles(std::size_t max_connections,
                                                         std::size_t max_idle_connections,
                                                         std::uint64_t open_files,
                                                         std::uint64_t reserve);

/// The soft and hard RLIMIT_NOFILE after trying to raise the soft limit to the hard one.
struct OpenFilesLimit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  std::uint64_t before = 0;  ///< The soft limit before raising it.
};

/// Raises the soft RLIMIT_NOFILE to the hard limit (bounded by /proc/sys/fs/nr_open when the hard
/// limit is infinite) and returns the result. Never lowers a limit.
OpenFilesLimit RaiseOpenFilesLimit();

}  // namespace claudegate::config
