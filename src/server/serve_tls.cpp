// The request loop instantiated for TLS (`beast::ssl_stream<TcpStream>`) connections
// (serve_requests.hpp).
#include "serve_requests_impl.hpp"

namespace claudegate::server {

template Awaitable<void> ServeAndClose<TlsStream>(TlsStream&, const std::shared_ptr<CloseState>&,
                                                  const std::string&, const SessionDeps&);

}  // namespace claudegate::server
