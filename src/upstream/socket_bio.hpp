// An OpenSSL BIO that reads and writes a connected, non-blocking Asio TCP socket directly, so that
// the SSL object sits on the socket itself instead of behind the BIO pair and the two 17 KiB
// buffers of `ssl::stream` (docs/performance.md, "Upstream TLS without the BIO pair").
//
// Why not `SSL_set_fd`: its socket BIO writes with write(2), which raises SIGPIPE when the
// upstream has reset the connection and would kill the daemon (it does not ignore SIGPIPE; Asio's
// own sockets send with MSG_NOSIGNAL). This BIO is the same few lines with send(MSG_NOSIGNAL).
// It reads the descriptor from the socket on every call, so a closed socket gives EBADF instead
// of touching a descriptor number the kernel may have handed to someone else.
// See https://www.openssl.org/docs/man3.0/man3/BIO_meth_new.html and BIO_s_socket(3).
#pragma once

#include <openssl/bio.h>

#include "claudegate/net.hpp"

namespace claudegate::upstream {

/// What the BIO reads and writes. Owned by the caller and must outlive the BIO.
struct SocketBioTarget {
  tcp::socket* socket = nullptr;
  /// errno of the last failed send/recv (0 after end of file), so that SSL_ERROR_SYSCALL can be
  /// reported with its real cause.
  int last_errno = 0;
};

/// A new BIO on `target`, or null when OpenSSL is out of memory. The caller hands it to
/// `SSL_set_bio`, which takes ownership.
[[nodiscard]] BIO* NewSocketBio(SocketBioTarget& target);

}  // namespace claudegate::upstream
