/// @file serve_requests.hpp
/// The request loop of one connection (private to src/server/): reads each request under the
/// listener's limits, asks the header gate, reads the body, runs the pipeline while watching for a
/// hang-up, and keeps the connection alive between requests. Instantiated for a plain `TcpStream`
/// (serve_plain.cpp) and for `beast::ssl_stream<TcpStream>` (serve_tls.cpp): one translation unit
/// each, so the two heavy coroutine instantiations compile in parallel.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "claudegate/net.hpp"
#include "claudegate/server/connection_tracker.hpp"
#include "claudegate/server/session.hpp"

namespace claudegate::server {

// Session state the tracker's closer reads. Touched only on the connection's strand.
struct CloseState {
  bool idle = true;
  bool alive = true;
  std::function<void()> close;
  ConnectionTracker::Registration* registration = nullptr;

  // Idle connections (holding no request the gate let through for its body) may be closed at
  // shutdown, and evicted when a connection limit is reached.
  void SetIdle(bool now_idle) {
    idle = now_idle;
    if (registration != nullptr) {
      registration->SetIdle(now_idle);
    }
  }
};

/// Serves requests on `stream` until the connection should close; an exception a handler lets out
/// (a bug) is logged and ends this connection only.
template <typename Stream>
Awaitable<void> ServeAndClose(Stream& stream, const std::shared_ptr<CloseState>& state,
                              const std::string& peer, const SessionDeps& deps);

using TlsStream = beast::ssl_stream<TcpStream>;
extern template Awaitable<void> ServeAndClose<TcpStream>(TcpStream&,
                                                         const std::shared_ptr<CloseState>&,
                                                         const std::string&, const SessionDeps&);
extern template Awaitable<void> ServeAndClose<TlsStream>(TlsStream&,
                                                         const std::shared_ptr<CloseState>&,
                                                         const std::string&, const SessionDeps&);

}  // namespace claudegate::server
