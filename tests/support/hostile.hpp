// Helpers for the hostile-client tests: the check that the owner is still served, bounded waits
// for state that has no event, raw sockets in bulk, and the open-file limit those need.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/poll.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"

namespace claudegate::testing {

/// The legitimate client every hostile test keeps checking: an authorized GET /v1/models on a new
/// connection must succeed within a few seconds.
inline void ExpectOwnerServed(std::uint16_t port, std::string_view when) {
  TestClient owner(port, std::chrono::seconds(5));
  auto response = owner.Request(http::verb::get, "/v1/models", {},
                                {{"authorization", "Bearer " + kTestMasterKey}});
  ASSERT_TRUE(response) << "owner got no answer " << when;
  EXPECT_EQ(response->status, 200) << "owner refused " << when << ": " << response->body();
}

/// Raises the soft open-file limit to the hard one; false when even that is below `needed`.
inline bool EnsureOpenFiles(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return false;
  }
  if (limit.rlim_cur < needed && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur >= needed;
}

/// A raw blocking connection to 127.0.0.1:port for attacks that need many sockets or odd socket
/// options; -1 on failure. `rcvbuf`/`sndbuf` > 0 shrink the kernel buffers before connecting.
inline int ConnectRaw(std::uint16_t port, int rcvbuf = 0, int sndbuf = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (rcvbuf > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  if (sndbuf > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace claudegate::testing
