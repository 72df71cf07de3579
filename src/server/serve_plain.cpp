// The request loop instantiated for plain TCP connections (serve_requests.hpp).
#include "serve_requests_impl.hpp"

namespace claudegate::server {

template Awaitable<void> ServeAndClose<TcpStream>(TcpStream&, const std::shared_ptr<CloseState>&,
                                                  const std::string&, const SessionDeps&);

}  // namespace claudegate::server
