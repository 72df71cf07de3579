#include "claudegate/config/open_files.hpp"

#include <algorithm>
#include <fstream>

#include <sys/resource.h>

namespace claudegate::config {

std::uint64_t OpenFilesReserve(unsigned threads) {
  // 64 for the process (stdio, listener, signals, credentials and their lock and temporary file,
  // the CA bundle, a log shipper's pipe) and 4 per io thread (epoll, eventfd, timerfd, slack).
  return 64 + 4 * static_cast<std::uint64_t>(threads);
}

ConnectionBudget FitConnectionsToOpenFiles(std::size_t max_connections,
                                           std::size_t max_idle_connections,
                                           std::uint64_t open_files, std::uint64_t reserve) {
  ConnectionBudget budget;
  budget.max_connections = max_connections;
  budget.max_idle_connections = std::min(max_idle_connections, max_connections);
  const std::uint64_t usable = open_files > reserve ? open_files - reserve : 0;
  // Written so that nothing overflows for any configured size: connections ≤ usable first.
  if (budget.max_connections <= usable &&
      2 * budget.max_connections + budget.max_idle_connections <= usable) {
    return budget;
  }
  budget.clamped = true;
  const auto idle = std::min<std::uint64_t>(budget.max_idle_connections, usable / 3);
  budget.max_connections =
      static_cast<std::size_t>(std::max<std::uint64_t>(1, (usable - idle) / 2));
  budget.max_idle_connections =
      static_cast<std::size_t>(std::min<std::uint64_t>(idle, budget.max_connections));
  return budget;
}

namespace {

// The kernel's ceiling for RLIMIT_NOFILE (setrlimit fails above it, even with an infinite hard
// limit); 1,048,576 by default.
std::uint64_t KernelOpenFilesCeiling() {
  std::ifstream file("/proc/sys/fs/nr_open");
  std::uint64_t value = 0;
  if (file >> value && value > 0) {
    return value;
  }
  return 1U << 20U;
}

}  // namespace

OpenFilesLimit RaiseOpenFilesLimit() {
  OpenFilesLimit result;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return result;
  }
  result.before = limit.rlim_cur;
  rlim_t target = limit.rlim_max;
  if (target == RLIM_INFINITY) {
    target = static_cast<rlim_t>(KernelOpenFilesCeiling());
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  result.soft = limit.rlim_cur;
  result.hard = limit.rlim_max;
  return result;
}

}  // namespace claudegate::config
