// FakeUpstream internals shared by fake_upstream.cpp (serving connections) and
// fake_upstream_faults.cpp (writing responses and faults). Not for tests to include.
#pragma once

#include <functional>
#include <utility>

#include "support/fake_upstream.hpp"

namespace claudegate::testing {

// What the two halves of one response (delivery and disconnect watch) tell each other.
struct FakeUpstream::Exchange {
  bool server_closed = false;  // the fake dropped the connection on purpose (a Fault)
  bool peer_closed = false;    // the client closed or reset the connection mid-response
  bool delivered = false;      // the last byte of the response was written
};

namespace fake_upstream_io {

using TlsServerStream = ssl::stream<TcpStream>;

// Drops the transport without a TLS close_notify: FIN (`reset == false`) or RST (SO_LINGER 0).
template <typename Stream>
void DropTransport(Stream& stream, bool reset) {
  auto& socket = beast::get_lowest_layer(stream).socket();
  error_code ignored;
  if (reset) {
    socket.set_option(net::socket_base::linger(true, 0), ignored);
  } else {
    socket.shutdown(tcp::socket::shutdown_both, ignored);
  }
  socket.close(ignored);
}

// Unregisters a connection when its coroutine ends (or its frame is destroyed at shutdown).
class Registration {
 public:
  explicit Registration(std::function<void()> on_exit) : on_exit_(std::move(on_exit)) {}
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration() { on_exit_(); }

 private:
  std::function<void()> on_exit_;
};

// Ends a connection the polite way: TLS close_notify (bounded), then FIN.
Awaitable<void> GracefulClose(TlsServerStream& stream);
Awaitable<void> GracefulClose(TcpStream& stream);

}  // namespace fake_upstream_io

// Defined and instantiated for both stream types in fake_upstream_faults.cpp.
extern template Awaitable<FakeUpstream::Delivery> FakeUpstream::Deliver<TcpStream>(
    TcpStream&, const ScriptedResponse&, bool, Exchange&);
extern template Awaitable<FakeUpstream::Delivery>
FakeUpstream::Deliver<fake_upstream_io::TlsServerStream>(fake_upstream_io::TlsServerStream&,
                                                         const ScriptedResponse&, bool, Exchange&);

}  // namespace claudegate::testing
