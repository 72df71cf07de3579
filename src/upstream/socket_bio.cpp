#include "socket_bio.hpp"

#include <cerrno>
#include <climits>

#include <sys/socket.h>

namespace claudegate::upstream {
namespace {

SocketBioTarget* State(BIO* bio) { return static_cast<SocketBioTarget*>(BIO_get_data(bio)); }

bool Transient(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

int Write(BIO* bio, const char* data, int length) {
  auto* state = State(bio);
  BIO_clear_retry_flags(bio);
  const ssize_t n =
      ::send(state->socket->native_handle(), data, static_cast<std::size_t>(length), MSG_NOSIGNAL);
  if (n >= 0) {
    return static_cast<int>(n);
  }
  state->last_errno = errno;
  if (Transient(errno)) {
    BIO_set_retry_write(bio);
  }
  return -1;
}

int Read(BIO* bio, char* data, int length) {
  auto* state = State(bio);
  BIO_clear_retry_flags(bio);
  const ssize_t n =
      ::recv(state->socket->native_handle(), data, static_cast<std::size_t>(length), 0);
  if (n > 0) {
    return static_cast<int>(n);
  }
  if (n == 0) {
    // OpenSSL asks BIO_eof() after a read of 0 to tell a truncation from a retry (OpenSSL 3's
    // SSL_R_UNEXPECTED_EOF_WHILE_READING), as BIO_s_socket does with BIO_FLAGS_IN_EOF.
    state->last_errno = 0;
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
    return 0;
  }
  state->last_errno = errno;
  if (Transient(errno)) {
    BIO_set_retry_read(bio);
  }
  return -1;
}

long Control(BIO* bio, int command, long /*number*/,
             void* /*pointer*/) {  // NOLINT(google-runtime-int)
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // every write went straight to the kernel
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:
      return 0;  // no kTLS, no push/pop, no duplication
  }
}

int Destroy(BIO* bio) {
  BIO_set_data(bio, nullptr);  // the target belongs to the caller
  return 1;
}

// One method table for the process, made on first use (BIO_meth_new(3); thread-safe static init).
BIO_METHOD* Method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "claudegate socket");
    if (m != nullptr) {
      BIO_meth_set_write(m, Write);
      BIO_meth_set_read(m, Read);
      BIO_meth_set_ctrl(m, Control);
      BIO_meth_set_destroy(m, Destroy);
    }
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewSocketBio(SocketBioTarget& target) {
  BIO_METHOD* method = Method();
  if (method == nullptr) {
    return nullptr;
  }
  BIO* bio = BIO_new(method);
  if (bio == nullptr) {
    return nullptr;
  }
  BIO_set_data(bio, &target);
  BIO_set_init(bio, 1);
  return bio;
}

}  // namespace claudegate::upstream
