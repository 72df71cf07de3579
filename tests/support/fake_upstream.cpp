#include "support/fake_upstream.hpp"

#include <cstdio>
#include <exception>
#include <future>
#include <utility>

#include "support/fake_upstream_io.hpp"

namespace claudegate::testing {
namespace {

using namespace std::chrono_literals;
using ConnectionFault = FakeUpstream::ConnectionFault;
using fake_upstream_io::GracefulClose;
using fake_upstream_io::Registration;

constexpr std::size_t kMaxRequestBody = 64U * 1024U * 1024U;
// The watcher keeps what a pipelining client sends during a response for the next parse, but stops
// reading (and so stops detecting disconnects) past this much.
constexpr std::size_t kMaxBufferedWhileResponding = 1024U * 1024U;

void LogCoroutineException(const std::exception_ptr& error) {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FakeUpstream: coroutine threw: %s\n", e.what());
  }
}

void UseServerCertificate(ssl::context& context, const std::string& cert_file,
                          const std::string& key_file) {
  context.set_options(ssl::context::default_workarounds | ssl::context::no_tlsv1 |
                      ssl::context::no_tlsv1_1);
  context.use_certificate_chain_file(cert_file);
  context.use_private_key_file(key_file, ssl::context::pem);
}

}  // namespace

std::string RecordedRequest::header(std::string_view name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

nlohmann::json RecordedRequest::JsonBody() const { return nlohmann::json::parse(body); }

FakeUpstream::FakeUpstream(Handler handler) : FakeUpstream(std::move(handler), Options{}) {}

FakeUpstream::FakeUpstream(Handler handler, Options options)
    : handler_(std::move(handler)),
      options_(options),
      ssl_context_(ssl::context::tls_server),
      untrusted_context_(ssl::context::tls_server),
      wrong_host_context_(ssl::context::tls_server),
      acceptor_(io_) {
  if (options_.tls) {
    const TestCerts& certs = options_.certs != nullptr ? *options_.certs : SharedTestCerts();
    UseServerCertificate(ssl_context_, certs.cert_file, certs.key_file);
    UseServerCertificate(untrusted_context_, UntrustedTestCerts().cert_file,
                         UntrustedTestCerts().key_file);
    UseServerCertificate(wrong_host_context_, SharedTestCerts().wrong_host_cert_file,
                         SharedTestCerts().wrong_host_key_file);
  }
  Listen();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] {
    io_.run();
    {
      const std::lock_guard lock(mutex_);
      run_finished_ = true;
    }
    changed_.notify_all();
  });
}

// Binds port_ (0 the first time: any free port; later the same port again) and starts accepting.
void FakeUpstream::Listen() {
  const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port_);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  net::co_spawn(io_, AcceptLoop(), LogCoroutineException);
}

FakeUpstream::~FakeUpstream() {
  stopping_ = true;
  net::post(io_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
    CloseAll();
    work_.reset();
  });
  {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 2s, [this] { return run_finished_; });
  }
  io_.stop();
  thread_.join();
}

std::string FakeUpstream::base_url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<RecordedRequest> FakeUpstream::requests() const {
  const std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeUpstream::connections_accepted() const {
  const std::lock_guard lock(mutex_);
  return connections_accepted_;
}

std::size_t FakeUpstream::tls_handshakes() const {
  const std::lock_guard lock(mutex_);
  return tls_handshakes_;
}

std::size_t FakeUpstream::tls_resumed_handshakes() const {
  const std::lock_guard lock(mutex_);
  return tls_resumed_handshakes_;
}

std::size_t FakeUpstream::tls_handshake_failures() const {
  const std::lock_guard lock(mutex_);
  return tls_handshake_failures_;
}

std::size_t FakeUpstream::client_disconnects() const {
  const std::lock_guard lock(mutex_);
  return client_disconnects_;
}

template <typename Predicate>
bool FakeUpstream::WaitUntil(std::chrono::milliseconds timeout, Predicate predicate) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, predicate);
}

bool FakeUpstream::WaitForRequests(std::size_t n, std::chrono::milliseconds timeout) {
  return WaitUntil(timeout, [&] { return requests_.size() >= n; });
}

bool FakeUpstream::WaitForConnections(std::size_t n, std::chrono::milliseconds timeout) {
  return WaitUntil(timeout, [&] { return connections_accepted_ >= n; });
}

bool FakeUpstream::WaitForTlsHandshakeFailures(std::size_t n, std::chrono::milliseconds timeout) {
  return WaitUntil(timeout, [&] { return tls_handshake_failures_ >= n; });
}

bool FakeUpstream::WaitForClientDisconnects(std::size_t n, std::chrono::milliseconds timeout) {
  return WaitUntil(timeout, [&] { return client_disconnects_ >= n; });
}

void FakeUpstream::Bump(std::size_t& counter) {
  {
    const std::lock_guard lock(mutex_);
    ++counter;
  }
  changed_.notify_all();
}

std::uint64_t FakeUpstream::Register(net::any_io_executor executor, std::function<void()> close) {
  const std::lock_guard lock(mutex_);
  const std::uint64_t id = next_connection_id_++;
  live_.emplace(id, LiveConnection{std::move(executor), std::move(close)});
  return id;
}

void FakeUpstream::Unregister(std::uint64_t id) {
  {
    const std::lock_guard lock(mutex_);
    live_.erase(id);
  }
  changed_.notify_all();  // DropConnections waits for the last one
}

void FakeUpstream::SetConnectionFault(ConnectionFault fault) {
  std::promise<void> applied;
  auto done = applied.get_future();
  net::post(io_, [this, fault, &applied] {
    try {
      ApplyConnectionFault(fault);
      applied.set_value();
    } catch (...) {
      applied.set_exception(std::current_exception());
    }
  });
  if (done.wait_for(2s) != std::future_status::ready) {
    throw std::runtime_error("FakeUpstream: SetConnectionFault timed out");
  }
  done.get();
}

// Runs on the io thread, so it never races the accept loop.
void FakeUpstream::ApplyConnectionFault(ConnectionFault fault) {
  connection_fault_ = fault;
  if (fault == ConnectionFault::kRefuse) {
    error_code ignored;
    acceptor_.close(ignored);  // the accept loop ends with operation_aborted
  } else if (!acceptor_.is_open() && !stopping_) {
    Listen();
  }
}

bool FakeUpstream::DropConnections(std::chrono::milliseconds timeout) {
  net::post(io_, [this] { CloseAll(); });
  return WaitUntil(timeout, [this] { return live_.empty(); });
}

// Runs on the io thread. Each close runs on its connection's strand and only if the connection is
// still registered: a coroutine unregisters (on that strand) before its stream is destroyed.
void FakeUpstream::CloseAll() {
  std::vector<std::pair<std::uint64_t, net::any_io_executor>> targets;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, connection] : live_) {
      targets.emplace_back(id, connection.executor);
    }
  }
  for (auto& [id, executor] : targets) {
    net::post(executor, [this, id = id] {
      const std::lock_guard lock(mutex_);
      const auto it = live_.find(id);
      if (it != live_.end()) {
        it->second.close();
      }
    });
  }
}

ScriptedResponse FakeUpstream::CallHandler(const RecordedRequest& request) {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    return ErrorResponse(500, "api_error", std::string("FakeUpstream handler threw: ") + e.what());
  }
}

Awaitable<void> FakeUpstream::AcceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(io_));
    if (ec) {
      if (stopping_ || !acceptor_.is_open() || ec == net::error::operation_aborted) {
        co_return;
      }
      continue;
    }
    Bump(connections_accepted_);
    // Without TCP_NODELAY, a header write followed by a small body write waits out the client's
    // delayed ACK (~40 ms per response on Linux).
    socket.set_option(tcp::no_delay(true), ec);
    const auto executor = socket.get_executor();
    if (!options_.tls) {
      net::co_spawn(executor, ServePlain(std::move(socket)), LogCoroutineException);
      continue;
    }
    const ConnectionFault fault = connection_fault_;
    switch (fault) {
      case ConnectionFault::kTlsGarbage:
      case ConnectionFault::kTlsCloseInHandshake:
      case ConnectionFault::kTlsSilentHandshake:
        net::co_spawn(executor, ServeBrokenHandshake(std::move(socket), fault),
                      LogCoroutineException);
        break;
      case ConnectionFault::kUntrustedCertificate:
        net::co_spawn(executor, ServeTls(std::move(socket), untrusted_context_),
                      LogCoroutineException);
        break;
      case ConnectionFault::kWrongHostCertificate:
        net::co_spawn(executor, ServeTls(std::move(socket), wrong_host_context_),
                      LogCoroutineException);
        break;
      default:
        net::co_spawn(executor, ServeTls(std::move(socket), ssl_context_), LogCoroutineException);
        break;
    }
  }
}

Awaitable<void> FakeUpstream::ServePlain(tcp::socket socket) {
  TcpStream stream(std::move(socket));
  const std::uint64_t id = Register(co_await net::this_coro::executor, [&stream] {
    error_code ignored;
    stream.socket().close(ignored);
  });
  const Registration registration([this, id] { Unregister(id); });
  if (stopping_) {
    co_return;
  }
  co_await ServeRequests(stream);
}

Awaitable<void> FakeUpstream::ServeTls(tcp::socket socket, ssl::context& context) {
  ssl::stream<TcpStream> stream(TcpStream(std::move(socket)), context);
  const std::uint64_t id = Register(co_await net::this_coro::executor, [&stream] {
    error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
  });
  const Registration registration([this, id] { Unregister(id); });
  if (stopping_) {
    co_return;
  }
  beast::get_lowest_layer(stream).expires_after(10s);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, Token{});
  beast::get_lowest_layer(stream).expires_never();
  if (ec) {
    Bump(tls_handshake_failures_);
    co_return;
  }
  Bump(tls_handshakes_);
  if (SSL_session_reused(stream.native_handle()) == 1) {
    Bump(tls_resumed_handshakes_);
  }
  co_await ServeRequests(stream);
}

template <typename Stream>
Awaitable<void> FakeUpstream::ServeRequests(Stream& stream) {
  using namespace net::experimental::awaitable_operators;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    auto [ec, bytes] = co_await http::async_read(stream, buffer, parser, Token{});
    if (ec) {
      co_return;  // the client closed an idle keep-alive connection, or garbage arrived
    }
    const auto& message = parser.get();
    RecordedRequest recorded;
    recorded.method = std::string(message.method_string());
    recorded.target = std::string(message.target());
    recorded.body = message.body();
    for (const auto& field : message) {
      recorded.headers.insert(field.name_string(), field.value());
    }
    const bool client_keep_alive = message.keep_alive();
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back(recorded);
    }
    changed_.notify_all();

    const ScriptedResponse response = CallHandler(recorded);
    const bool keep_alive = client_keep_alive && !response.close_connection && !stopping_;
    Exchange exchange;
    const auto outcome = co_await (Deliver(stream, response, keep_alive, exchange) ||
                                   WatchForPeerClose(stream, buffer, exchange));
    if (exchange.peer_closed) {
      Bump(client_disconnects_);
      co_return;
    }
    if (outcome.index() == 0 && std::get<0>(outcome) == Delivery::kCloseCleanly) {
      co_await GracefulClose(stream);  // only now: the watcher's read is no longer pending
      co_return;
    }
    if (outcome.index() != 0 || std::get<0>(outcome) != Delivery::kComplete) {
      co_return;
    }
    if (!keep_alive) {
      co_await GracefulClose(stream);
      co_return;
    }
  }
}

template <typename Stream>
Awaitable<void> FakeUpstream::WatchForPeerClose(Stream& stream, beast::flat_buffer& buffer,
                                                Exchange& exchange) {
  co_await net::this_coro::throw_if_cancelled(false);
  const net::cancellation_state state = co_await net::this_coro::cancellation_state;
  while (buffer.size() < kMaxBufferedWhileResponding) {
    if (state.cancelled() != net::cancellation_type::none) {
      co_return;  // the response finished while the previous read was completing with data
    }
    // Bytes that arrive now (a pipelined request) stay in `buffer` for the next parse.
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(64U * 1024U), Token{});
    buffer.commit(n);
    if (ec) {
      if (ec != net::error::operation_aborted && !exchange.server_closed && !exchange.delivered &&
          !stopping_) {
        exchange.peer_closed = true;  // eof, stream_truncated or connection_reset
      }
      co_return;
    }
  }
  Timer idle(co_await net::this_coro::executor);
  idle.expires_at(Timer::time_point::max());
  if (state.cancelled() == net::cancellation_type::none) {
    co_await idle.async_wait();
  }
}

}  // namespace claudegate::testing
