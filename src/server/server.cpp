#include "claudegate/server/server.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "claudegate/server/session.hpp"

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

// accept() failures that concern one connection only (it was reset while queued): accept the next
// one at once. Any other failure (EMFILE, ENFILE, ENOBUFS, ENOMEM) would fail again right away.
bool IsPerConnectionFailure(const error_code& ec) {
  return ec == net::error::connection_aborted || ec == net::error::connection_reset ||
         ec == net::error::would_block || ec == net::error::try_again;
}

// The accept-failure log line, at most once per second with a count of the lines left out: a
// listener out of descriptors must not turn every queued connection into a log line (81 MB in
// 19 s before, issue 14 finding 2).
class AcceptFailureLog {
 public:
  void Note(const error_code& ec, std::chrono::milliseconds pause) {
    const auto now = std::chrono::steady_clock::now();
    if (logged_ && now - last_ < std::chrono::seconds(1)) {
      ++suppressed_;
      return;
    }
    const std::string suppressed =
        suppressed_ > 0 ? " (" + std::to_string(suppressed_) + " more since the last line)" : "";
    if (pause.count() > 0) {
      spdlog::warn("accept failed: {}{}; pausing new connections for {} ms", ec.message(),
                   suppressed, pause.count());
    } else {
      spdlog::warn("accept failed: {}{}", ec.message(), suppressed);
    }
    logged_ = true;
    last_ = now;
    suppressed_ = 0;
  }

 private:
  bool logged_ = false;
  std::chrono::steady_clock::time_point last_;
  std::size_t suppressed_ = 0;
};

// Out of descriptors, the listener pauses accepting for a delay that doubles from 10 ms to 1 s
// and resets after the next successful accept. Why pausing (nginx's answer: on EMFILE it disables
// accept events for a while, src/event/ngx_event_accept.c) and not the spare-descriptor trick
// (libev's manual, "The special problem of accept()ing when you can't": close a reserved
// descriptor, accept, close the connection, reopen the reserve): pausing leaves the waiting
// connections in the kernel's backlog, and they are served as soon as a descriptor frees, while
// the trick closes them unanswered, the owner's too. With the limits fitted to the open-file
// limit at start (config/open_files.hpp) this is the fallback; the normal overload answer is the
// connection tracker's 503.
constexpr std::chrono::milliseconds kFirstAcceptPause{10};
constexpr std::chrono::milliseconds kLongestAcceptPause{1000};

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
      grace_timer_(acceptor_.get_executor()),
      accept_pause_(acceptor_.get_executor()) {}

Server::~Server() = default;

Result<tcp::endpoint> Server::Listen() {
  error_code ec;
  const auto address = net::ip::make_address(config_.host, ec);
  if (ec) {
    return Error{ErrorKind::kInvalidRequest,
                 "HOST '" + config_.host + "' is not an IP address (use e.g. 0.0.0.0 or 127.0.0.1)",
                 {},
                 {}};
  }
  if (config_.tls.Enabled()) {
    tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX_set_mode(tls_->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    tls_->use_certificate_chain_file(config_.tls.cert_file, ec);
    if (!ec) {
      tls_->use_private_key_file(config_.tls.key_file, ssl::context::pem, ec);
    }
    if (ec) {
      return Error{ErrorKind::kInvalidRequest,
                   "cannot load listener TLS certificate/key (" + config_.tls.cert_file + ", " +
                       config_.tls.key_file + "): " + ec.message(),
                   {},
                   {}};
    }
  }
  // Asio creates an io_context's reactor (epoll, eventfd and timerfd descriptors) with its first
  // socket. The first connection dealt to a worker while descriptors were exhausted made that
  // creation throw out of io_context::run and ended the process; create them now instead.
  for (net::io_context* worker : workers_) {
    const tcp::socket warm_up(*worker);
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
                 {},
                 {}};
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
  const SessionDeps deps{&config_.limits, &pipeline_,    &tracker_,        tls_.get(),
                         gate_,           &body_budget_, &trusted_proxies_};
  AcceptFailureLog failure_log;
  auto pause = kFirstAcceptPause;
  for (;;) {
    auto [ec, socket] = co_await AcceptNext();
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
      co_return;
    }
    if (ec && IsPerConnectionFailure(ec)) {
      failure_log.Note(ec, std::chrono::milliseconds::zero());
      continue;
    }
    if (ec) {
      // EMFILE and friends: retrying at once fails at once (a busy loop); see kFirstAcceptPause.
      failure_log.Note(ec, pause);
      accept_pause_.expires_after(pause);
      co_await accept_pause_.async_wait(Token{});
      pause = std::min(pause * 2, kLongestAcceptPause);
      continue;
    }
    pause = kFirstAcceptPause;
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
    accept_pause_.cancel();
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
