#include "claudegate/upstream/upstream_client.hpp"

#include <span>

#include <spdlog/spdlog.h>

#include "claudegate/upstream/tls_session_cache.hpp"
#include "claudegate/upstream/tls_socket.hpp"

#include "connection_pool.hpp"

namespace claudegate::upstream {
namespace {

constexpr std::size_t kReadChunk = 16U * 1024U;
constexpr std::uint32_t kMaxResponseHeaderBytes = 64U * 1024U;
constexpr std::string_view kUserAgent = "claudegate/" CLAUDEGATE_VERSION;

Error Broken(const std::string& what) {
  return Error(ErrorKind::kUpstreamUnreachable, "The Claude API connection failed: " + what + ".",
               {}, "upstream_unreachable");
}

// Header values reach the wire verbatim; anything with CR/LF would split the request.
bool SafeHeaderText(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

std::string SerializeHead(const UpstreamTarget& target, const UpstreamRequest& request) {
  std::string head;
  head.reserve(512);
  head += http::to_string(request.method);
  head += ' ';
  head += target.base_path;
  head += request.target;
  if (target.base_path.empty() && request.target.empty()) {
    head += '/';
  }
  head += " HTTP/1.1\r\nHost: ";
  head += target.host;
  if (target.port != (target.tls ? "443" : "80")) {
    head += ':';
    head += target.port;
  }
  head += "\r\nUser-Agent: ";
  head += kUserAgent;
  head += "\r\nContent-Length: ";
  head += std::to_string(request.body.size());
  head += "\r\n";
  for (const auto& [name, value] : request.headers) {
    if (!SafeHeaderText(name) || !SafeHeaderText(value)) {
      continue;
    }
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace

// ---- UpstreamResponse ---------------------------------------------------------------------------

struct UpstreamResponse::State {
  std::unique_ptr<UpstreamConnection> connection;
  std::shared_ptr<ConnectionPool> pool;
  const void* home = nullptr;  // the execution context the connection's socket is bound to
  http::response_parser<http::buffer_body> parser;
  beast::flat_buffer raw;  // bytes read but not yet parsed
  // Decoded body bytes handed to the caller. Not zero-filled: clearing 16 KiB was a tenth of the
  // instructions of a /v1/messages request, and pages never written stay out of RSS.
  std::unique_ptr<char[]> body_storage;
  std::span<char> body;
  bool received_any = false;  // any response byte arrived (no transparent retry then)
  std::size_t pending = 0;    // body bytes decoded with the header, not yet returned

  // Reads more bytes into `raw`. When everything read so far is parsed (and the caller, by
  // calling again, is done with the last view of `body`), both buffers are freed first and the
  // read waits for the socket without them: a quiet stream then holds 32 KiB less
  // (docs/performance.md, "Upstream TLS without the BIO pair"). Invariant: `body` has storage
  // whenever `raw` holds bytes, so the parser always has somewhere to decode to.
  Awaitable<std::tuple<error_code, std::size_t>> ReadMore(std::chrono::milliseconds timeout) {
    if (raw.size() == 0) {
      raw.shrink_to_fit();  // frees it: nothing unparsed
      body_storage.reset();
      body = {};
      if (auto ec = co_await connection->WaitReadable(timeout); ec) {
        co_return std::tuple<error_code, std::size_t>{ec, 0};
      }
    }
    if (!body_storage) {
      body_storage = std::make_unique_for_overwrite<char[]>(kReadChunk);
      body = {body_storage.get(), kReadChunk};
    }
    co_return co_await connection->ReadSome(raw.prepare(kReadChunk), timeout);
  }
};

UpstreamResponse::UpstreamResponse(std::unique_ptr<UpstreamConnection> connection,
                                   std::shared_ptr<ConnectionPool> pool, const void* home)
    : state_(std::make_unique<State>()) {
  state_->home = home;
  state_->connection = std::move(connection);
  state_->pool = std::move(pool);
  state_->parser.header_limit(kMaxResponseHeaderBytes);
  state_->parser.body_limit(boost::none);  // bounded by the caller (ReadAll) or streamed
  state_->parser.eager(true);
}

UpstreamResponse::UpstreamResponse(UpstreamResponse&&) noexcept = default;
UpstreamResponse& UpstreamResponse::operator=(UpstreamResponse&&) noexcept = default;

UpstreamResponse::~UpstreamResponse() { Release(); }

void UpstreamResponse::Release() {
  if (!state_ || !state_->connection) {
    return;
  }
  auto& parser = state_->parser;
  const bool clean = parser.is_done() && parser.get().keep_alive() && state_->raw.size() == 0 &&
                     state_->connection->reusable;
  if (clean && state_->pool) {
    state_->pool->Return(std::move(state_->connection), state_->home);
  } else {
    // Unread body (client gone, error): closing is the only way to stop the upstream.
    state_->connection->Close();
    state_->connection.reset();
  }
}

unsigned UpstreamResponse::status() const { return state_->parser.get().result_int(); }

std::string_view UpstreamResponse::header(std::string_view name) const {
  return state_->parser.get()[name];
}

const http::fields& UpstreamResponse::headers() const { return state_->parser.get().base(); }

bool UpstreamResponse::received_any() const { return state_->received_any; }

Awaitable<Result<void>> UpstreamResponse::ReadHeader(std::chrono::milliseconds timeout) {
  auto& s = *state_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (s.raw.size() > 0) {
      s.parser.get().body().data = s.body.data();
      s.parser.get().body().size = s.body.size();
      error_code ec;
      const std::size_t used = s.parser.put(s.raw.data(), ec);
      s.raw.consume(used);
      if (s.parser.is_header_done()) {
        // Body bytes that arrived in the same read as the header were decoded eagerly into
        // `body`; the first Read() hands them out.
        s.pending = s.body.size() - s.parser.get().body().size;
        co_return Result<void>{};
      }
      if (ec && ec != http::error::need_more) {
        co_return Broken("malformed response header (" + ec.message() + ")");
      }
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      s.connection->Close();
      co_return Error(ErrorKind::kUpstreamTimeout,
                      "The Claude API did not answer in time (first-byte timeout).", {}, "timeout");
    }
    auto [ec, n] = co_await s.ReadMore(remaining);
    s.raw.commit(n);
    if (n > 0) {
      s.received_any = true;
    }
    if (ec == beast::error::timeout) {
      continue;  // the deadline check above reports it
    }
    if (ec) {
      co_return Broken(s.received_any ? "connection closed mid-header" : "connection closed");
    }
  }
}

Awaitable<Result<BodyRead>> UpstreamResponse::Read(std::chrono::milliseconds timeout) {
  auto& s = *state_;
  if (s.pending > 0) {
    const std::size_t n = std::exchange(s.pending, 0);
    co_return std::string_view(s.body.data(), n);
  }
  for (;;) {
    if (s.parser.is_done()) {
      // The body is complete: hand the connection back now, before the caller finishes its own
      // response, so the next request can reuse it.
      Release();
      co_return std::string_view{};
    }
    if (s.raw.size() > 0) {
      s.parser.get().body().data = s.body.data();
      s.parser.get().body().size = s.body.size();
      error_code ec;
      const std::size_t used = s.parser.put(s.raw.data(), ec);
      s.raw.consume(used);
      const std::size_t produced = s.body.size() - s.parser.get().body().size;
      if (produced > 0) {
        co_return std::string_view(s.body.data(), produced);
      }
      if (ec && ec != http::error::need_more && ec != http::error::need_buffer) {
        s.connection->reusable = false;
        co_return Broken("malformed response body (" + ec.message() + ")");
      }
      if (s.parser.is_done()) {
        Release();
        co_return std::string_view{};
      }
      if (used > 0 && s.raw.size() > 0) {
        continue;  // e.g. a chunk header was consumed; parse the rest before reading more
      }
    }
    auto [ec, n] = co_await s.ReadMore(timeout);
    s.raw.commit(n);
    if (ec == beast::error::timeout) {
      co_return BodyRead::Idle();
    }
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) {
      // A body delimited by connection close ends here; anything else was cut short.
      error_code eof_ec;
      s.parser.put_eof(eof_ec);
      s.connection->reusable = false;
      if (!eof_ec && s.parser.is_done()) {
        co_return std::string_view{};
      }
      co_return Broken("the response was cut off");
    }
    if (ec) {
      co_return Broken(ec == net::error::operation_aborted ? "request cancelled" : ec.message());
    }
  }
}

Awaitable<Result<std::string>> UpstreamResponse::ReadAll(std::size_t limit,
                                                         std::chrono::milliseconds timeout) {
  std::string all;
  for (;;) {
    auto piece = co_await Read(timeout);
    if (!piece) {
      co_return piece.error();
    }
    if (piece->status == BodyRead::Status::kIdle) {
      co_return Error(ErrorKind::kUpstreamTimeout, "No data from the Claude API in time.", {},
                      "timeout");
    }
    if (piece->status == BodyRead::Status::kEnd) {
      co_return all;
    }
    if (all.size() + piece->data.size() > limit) {
      state_->connection->reusable = false;
      co_return Broken("response larger than " + std::to_string(limit) + " bytes");
    }
    all.append(piece->data);
  }
}

// ---- UpstreamClient -----------------------------------------------------------------------------

Result<std::unique_ptr<ssl::context>> MakeClientTlsContext(const std::string& ca_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // Verification is always on; there is deliberately no switch to turn it off.
  context->set_verify_mode(ssl::verify_peer);
  // Idle pooled connections and quiet streams need not hold ~34 KiB of OpenSSL buffers each: with
  // OpenSSL on the socket itself (TlsSocket) the record buffers are freed whenever a read or write
  // has drained them (SSL_CTX_set_mode(3)).
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  TlsSessionCache::EnableOn(context->native_handle());
  error_code ec;
  if (ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    context->load_verify_file(ca_file, ec);
  }
  if (ec) {
    return Error(ErrorKind::kInvalidRequest,
                 "cannot load CA certificates" +
                     (ca_file.empty() ? std::string(" from the system store")
                                      : " from SSL_CERT_FILE=" + ca_file) +
                     ": " + ec.message());
  }
  return context;
}

Result<std::unique_ptr<UpstreamClient>> UpstreamClient::Create(const config::Upstream& config) {
  auto target = ParseUpstreamUrl(config.base_url);
  if (!target) {
    return target.error();
  }
  auto tls = MakeClientTlsContext(config.ssl_cert_file);
  if (!tls) {
    return tls.error();
  }
  return std::unique_ptr<UpstreamClient>(
      new UpstreamClient(config, std::move(*target), std::move(*tls)));
}

UpstreamClient::UpstreamClient(const config::Upstream& config, UpstreamTarget target,
                               std::unique_ptr<ssl::context> tls)
    : config_(config),
      target_(std::move(target)),
      tls_(std::move(tls)),
      tls_sessions_(std::make_shared<TlsSessionCache>()),
      pool_(std::make_shared<ConnectionPool>(config.max_idle_connections,
                                             config.pool_idle_timeout)) {}

UpstreamClient::~UpstreamClient() = default;

void UpstreamClient::CloseExpiredIdleConnections() { pool_->CloseExpired(); }

std::size_t UpstreamClient::idle_connections() const { return pool_->idle(); }

Awaitable<Result<UpstreamResponse>> UpstreamClient::SendOnce(const UpstreamTarget& target,
                                                             const UpstreamRequest& request,
                                                             std::shared_ptr<ConnectionPool> pool,
                                                             bool& retryable) {
  retryable = false;
  const auto executor = co_await net::this_coro::executor;
  const void* home = &net::query(executor, net::execution::context);
  std::unique_ptr<UpstreamConnection> connection = pool ? pool->Take(home) : nullptr;
  if (!connection) {
    auto opened = co_await UpstreamConnection::Open(target, tls_.get(), config_.connect_timeout,
                                                    config_.tls_timeout, tls_sessions_);
    if (!opened) {
      co_return opened.error();
    }
    connection = std::move(*opened);
    ++connections_opened_;
    if (connection->tls() != nullptr && connection->tls()->resumed()) {
      ++connections_resumed_;
    }
  }
  const bool reused = connection->reused;
  const std::string head = SerializeHead(target, request);
  const std::vector<net::const_buffer> buffers = {net::buffer(head), net::buffer(request.body)};
  if (auto ec = co_await connection->Write(buffers, config_.first_byte_timeout); ec) {
    connection->Close();
    // A stale pooled connection fails here before the server saw a byte: safe to retry.
    retryable = reused && ec != net::error::operation_aborted;
    co_return Broken("sending the request failed (" + ec.message() + ")");
  }
  UpstreamResponse response(std::move(connection), std::move(pool), home);
  auto header = co_await response.ReadHeader(config_.first_byte_timeout);
  if (!header) {
    retryable = reused && header.error().kind == ErrorKind::kUpstreamUnreachable &&
                !response.received_any();
    co_return header.error();
  }
  co_return std::move(response);
}

Awaitable<Result<UpstreamResponse>> UpstreamClient::Send(const UpstreamRequest& request) {
  bool retryable = false;
  auto first = co_await SendOnce(target_, request, pool_, retryable);
  if (first || !retryable) {
    co_return first;
  }
  spdlog::debug("pooled upstream connection was stale; retrying once on a new connection");
  co_return co_await SendOnce(target_, request, pool_, retryable);
}

Awaitable<Result<UpstreamResponse>> UpstreamClient::SendTo(std::string_view url,
                                                           const UpstreamRequest& request) {
  auto target = ParseUpstreamUrl(url);
  if (!target) {
    co_return target.error();
  }
  UpstreamRequest absolute = request;
  bool retryable = false;
  co_return co_await SendOnce(*target, absolute, nullptr, retryable);
}

}  // namespace claudegate::upstream
