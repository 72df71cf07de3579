#include "claudegate/http/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "claudegate/http/session.hpp"

namespace claudegate::server {
namespace {

void LogSessionBug(const std::exception_ptr& error) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("connection task failed (a bug): {}", e.what());
  }
}

std::string PeerString(const tcp::socket& socket) {
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) {
    return "unknown";
  }
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

Server::Server(net::io_context& io, const config::Config& config,
               const middleware::Pipeline& pipeline, const middleware::HeaderGate* gate)
    : io_(io),
      config_(config),
      pipeline_(pipeline),
      gate_(gate),
      trusted_proxies_(config.trusted_proxies),
      tracker_(config.limits.max_connections, config.limits.max_connections_per_client),
      // The largest body allowed must always fit.
      body_budget_(std::max(config.limits.max_body_bytes_in_flight, config.limits.max_body_bytes)),
      acceptor_(net::make_strand(io)),
      grace_timer_(acceptor_.get_executor()) {}

Server::~Server() = default;

Result<tcp::endpoint> Server::Listen() {
  error_code ec;
  const auto address = net::ip::make_address(config_.host, ec);
  if (ec) {
    return Error{ErrorKind::kInvalidRequest,
                 "HOST '" + config_.host + "' is not an IP address (use e.g. 0.0.0.0 or 127.0.0.1)",
                 {}, {}};
  }
  if (config_.tls.Enabled()) {
    tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                      ssl::context::no_tlsv1_1);
    SSL_CTX_set_mode(tls_->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    tls_->use_certificate_chain_file(config_.tls.cert_file, ec);
    if (!ec) {
      tls_->use_private_key_file(config_.tls.key_file, ssl::context::pem, ec);
    }
    if (ec) {
      return Error{ErrorKind::kInvalidRequest,
                   "cannot load listener TLS certificate/key (" + config_.tls.cert_file + ", " +
                       config_.tls.key_file + "): " + ec.message(),
                   {}, {}};
    }
  }
  const tcp::endpoint endpoint{address, config_.port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Error{ErrorKind::kInternal,
                 "cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": " +
                     ec.message(),
                 {}, {}};
  }
  const auto bound = acceptor_.local_endpoint();
  net::co_spawn(acceptor_.get_executor(), AcceptLoop(), LogSessionBug);
  return bound;
}

Awaitable<std::tuple<error_code, tcp::socket>> Server::AcceptNext() {
  if (workers_.empty()) {
    // Each connection gets its own strand, so sessions run in parallel on all io threads.
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(io_));
    co_return std::tuple<error_code, tcp::socket>{ec, tcp::socket(std::move(socket))};
  }
  // Round-robin over single-threaded io_contexts: no strand, no cross-thread wake-ups, and the
  // executor every handler and upstream socket inherits is a plain io_context executor (copying
  // a strand executor, with its reference count, was ~10 % of a 401's instructions).
  net::io_context& target = *workers_[next_worker_++ % workers_.size()];
  auto [ec, socket] = co_await acceptor_.async_accept(target);
  co_return std::tuple<error_code, tcp::socket>{ec, tcp::socket(std::move(socket))};
}

Awaitable<void> Server::AcceptLoop() {
  const SessionDeps deps{&config_.limits, &pipeline_, &tracker_, tls_.get(),
                         gate_,           &body_budget_, &trusted_proxies_};
  for (;;) {
    auto [ec, socket] = co_await AcceptNext();
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
      co_return;
    }
    if (ec) {
      // EMFILE and friends: log and keep accepting; the limit check rejects politely.
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::string peer = PeerString(socket);
    auto executor = socket.get_executor();
    net::co_spawn(executor, RunSession(TcpStream(std::move(socket)), std::move(peer), deps),
                  LogSessionBug);
  }
}

void Server::Shutdown(std::function<void()> on_done) {
  net::post(acceptor_.get_executor(), [this, on_done = std::move(on_done)]() mutable {
    error_code ignored;
    acceptor_.close(ignored);
    auto done = std::make_shared<std::function<void()>>(std::move(on_done));
    auto once = std::make_shared<std::once_flag>();
    auto finish = [this, done, once] {
      std::call_once(*once, [&] {
        // May run on any io thread; the timer belongs to the acceptor's strand.
        net::post(acceptor_.get_executor(), [this] { grace_timer_.cancel(); });
        (*done)();
      });
    };
    tracker_.BeginShutdown(finish);
    grace_timer_.expires_after(config_.limits.shutdown_grace);
    grace_timer_.async_wait([this](error_code ec) {
      if (!ec) {
        spdlog::warn("shutdown grace period over; closing {} connection(s)", tracker_.active());
        tracker_.ForceCloseAll();
      }
    });
  });
}

void DrainStoppedContexts(const std::vector<net::io_context*>& contexts) {
  for (net::io_context* context : contexts) {
    context->restart();
    context->poll();
  }
}

}  // namespace claudegate::server
