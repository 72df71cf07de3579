#include "claudegate/gateway.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "claudegate/keys/key_sync.hpp"
#include "claudegate/middleware/access_log.hpp"
#include "claudegate/middleware/auth.hpp"
#include "claudegate/middleware/key_limits.hpp"
#include "claudegate/middleware/metrics_middleware.hpp"
#include "claudegate/middleware/plan_guard.hpp"
#include "claudegate/middleware/request_id.hpp"
#include "claudegate/middleware/router.hpp"
#include "claudegate/middleware/usage_ledger.hpp"
#include "claudegate/routes/chat_completions_handler.hpp"
#include "claudegate/routes/health_handler.hpp"
#include "claudegate/routes/key_handler.hpp"
#include "claudegate/routes/messages_handler.hpp"
#include "claudegate/routes/models_handler.hpp"
#include "claudegate/routes/responses_handler.hpp"
#include "claudegate/routes/ui_handler.hpp"
#include "claudegate/routes/usage_handler.hpp"
#include "claudegate/store/make_store.hpp"

namespace claudegate {

struct Gateway::Handlers {
  routes::ModelsHandler models;
  routes::HealthHandler health;
  routes::ChatCompletionsHandler chat;
  routes::MessagesHandler messages;
  routes::ResponsesHandler responses;
  routes::KeyHandler keys;
  routes::UsageHandler usage;
  routes::UiHandler ui;
};

namespace {

using server::RequestContext;

// Usage rows waiting for the store: about 300 bytes each, so at most ~30 MB while the store is
// failing; beyond that rows are dropped and counted (docs/ledger.md).
constexpr std::size_t kMaxQueuedUsageRows = 100'000;
// How often queued rows are written: a kill -9 loses at most this much of the ledger.
constexpr std::chrono::milliseconds kLedgerWriteInterval{250};

// The route table: every path the gateway answers, in one place. OpenAI clients use both the
// /v1-prefixed and the bare paths (base URL with or without /v1), so both are served.
std::unique_ptr<middleware::Router> BuildRouter(const Gateway::Handlers& h,
                                                std::function<std::size_t()> open_connections) {
  auto router = std::make_unique<middleware::Router>();
  const auto get = http::verb::get;
  auto models_list = [&h](RequestContext& ctx) { return h.models.List(ctx); };
  auto models_get = [&h](RequestContext& ctx) { return h.models.Get(ctx); };
  router->Add(get, "/v1/models", models_list);
  router->Add(get, "/models", models_list);
  router->AddPrefix(get, "/v1/models/", "/v1/models/{id}", models_get);
  router->AddPrefix(get, "/models/", "/models/{id}", models_get);

  const auto post = http::verb::post;
  auto chat = [&h](RequestContext& ctx) { return h.chat.Handle(ctx); };
  router->Add(post, "/v1/chat/completions", chat);
  router->Add(post, "/chat/completions", chat);
  auto messages = [&h](RequestContext& ctx) { return h.messages.Handle(ctx); };
  router->Add(post, "/v1/messages", messages);
  router->Add(post, "/v1/messages/count_tokens", messages);
  auto responses = [&h](RequestContext& ctx) { return h.responses.Create(ctx); };
  router->Add(post, "/v1/responses", responses);
  router->Add(post, "/responses", responses);
  auto input_tokens = [&h](RequestContext& ctx) { return h.responses.InputTokens(ctx); };
  router->Add(post, "/v1/responses/input_tokens", input_tokens);
  router->Add(post, "/responses/input_tokens", input_tokens);
  auto responses_get = [&h](RequestContext& ctx) { return h.responses.Retrieve(ctx); };
  router->AddPrefix(get, "/v1/responses/", "/v1/responses/{id}", responses_get);
  router->AddPrefix(get, "/responses/", "/responses/{id}", responses_get);
  const auto del = http::verb::delete_;
  auto responses_delete = [&h](RequestContext& ctx) { return h.responses.Delete(ctx); };
  router->AddPrefix(del, "/v1/responses/", "/v1/responses/{id}", responses_delete);
  router->AddPrefix(del, "/responses/", "/responses/{id}", responses_delete);
  auto websocket = [&h](RequestContext& ctx) { return h.responses.OpenWebSocket(ctx); };
  router->Add(get, "/v1/responses", websocket);
  router->Add(get, "/responses", websocket);

  // LiteLLM's key management (docs/keys.md).
  router->Add(post, "/key/generate", [&h](RequestContext& ctx) { return h.keys.Generate(ctx); });
  router->Add(post, "/key/update", [&h](RequestContext& ctx) { return h.keys.Update(ctx); });
  router->Add(post, "/key/delete", [&h](RequestContext& ctx) { return h.keys.Delete(ctx); });
  router->Add(get, "/key/info", [&h](RequestContext& ctx) { return h.keys.Info(ctx); });
  router->Add(get, "/key/list", [&h](RequestContext& ctx) { return h.keys.List(ctx); });

  // The usage ledger's reports (docs/ledger.md), with LiteLLM's two spend routes.
  router->Add(get, "/usage/report", [&h](RequestContext& ctx) { return h.usage.Report(ctx); });
  router->Add(get, "/usage/logs", [&h](RequestContext& ctx) { return h.usage.Logs(ctx); });
  router->Add(get, "/spend/logs", [&h](RequestContext& ctx) { return h.usage.SpendLogs(ctx); });
  router->Add(get, "/global/spend/report",
              [&h](RequestContext& ctx) { return h.usage.GlobalSpendReport(ctx); });

  // The dashboard (docs/ui.md): public files; the data behind the master key.
  auto ui = [&h](RequestContext& ctx) { return h.ui.Serve(ctx); };
  router->Add(get, "/ui", ui);
  router->Add(get, "/ui/", ui);
  router->AddPrefix(get, "/ui/", "/ui/{file}", ui);

  auto liveness = [&h](RequestContext& ctx) { return h.health.Liveness(ctx); };
  router->Add(get, "/health/liveliness", liveness);
  router->Add(get, "/health/liveness", liveness);
  router->Add(get, "/health/readiness",
              [&h](RequestContext& ctx) { return h.health.Readiness(ctx); });
  router->Add(get, "/health", [&h](RequestContext& ctx) { return h.health.Detailed(ctx); });
  router->Add(get, "/metrics", [&h, open_connections](RequestContext& ctx) {
    return h.health.Metrics(ctx, open_connections());
  });
  return router;
}

// The middleware pipeline, outermost first. Order matters:
//   1. AccessLog wraps everything, so even refused requests are logged with their final status.
//   2. Metrics likewise sees every outcome, including refusals.
//   3. RequestId runs before anything can answer, so every reply carries x-request-id.
//   4. Auth refuses before any route work (health probes are exempt inside it). It is also the
//      header gate (`gate`): the session asks it before reading a body, and the refusal decided
//      there is answered here, so it is logged and counted like any other.
//   5. UsageLedger writes a row for each model request once its reply has finished; after Auth
//      (requests without a valid key cost nothing), before KeyLimits and PlanGuard (their
//      refusals are rows too).
//   6. KeyLimits applies a virtual key's model list and limits (Auth identified the key), and
//      charges its tokens after the reply; the master key passes.
//   7. PlanGuard (opt-in) refuses usage-spending calls while the plan limit is reached; after
//      Auth, so strangers learn nothing about the plan.
//   8. Router is terminal: 404/405 or the route handler.
std::unique_ptr<middleware::Pipeline> BuildPipeline(
    const config::Config& config, const Gateway::Handlers& handlers, keys::KeyRegistry& keys,
    ledger::UsageLedger* ledger, metrics::GatewayMetrics& metrics,
    std::function<std::size_t()> open_connections, const middleware::HeaderGate*& gate) {
  std::vector<std::unique_ptr<middleware::Middleware>> steps;
  steps.push_back(std::make_unique<middleware::AccessLogMiddleware>(config.logging.json));
  steps.push_back(std::make_unique<middleware::MetricsMiddleware>(metrics));
  steps.push_back(std::make_unique<middleware::RequestIdMiddleware>());
  const middleware::AuthThrottleSettings throttle{.max_failures = config.auth_throttle.max_failures,
                                                  .window = config.auth_throttle.window,
                                                  .block = config.auth_throttle.block};
  auto auth = std::make_unique<middleware::AuthMiddleware>(
      config.master_key, config.metrics_public, throttle,
      middleware::TrustedProxies(config.trusted_proxies), &keys);
  gate = auth.get();
  steps.push_back(std::move(auth));
  if (ledger != nullptr) {
    steps.push_back(std::make_unique<middleware::UsageLedgerMiddleware>(
        *ledger, config.models, ledger::SystemMillisClock()));
  }
  steps.push_back(std::make_unique<middleware::KeyLimitsMiddleware>(keys, config.models, metrics));
  steps.push_back(std::make_unique<middleware::PlanGuardMiddleware>(config.plan_guard, metrics));
  steps.push_back(BuildRouter(handlers, std::move(open_connections)));
  return std::make_unique<middleware::Pipeline>(std::move(steps));
}

}  // namespace

Gateway::Gateway(net::io_context& io, const config::Config& config,
                 std::shared_ptr<credentials::CredentialSource> credentials,
                 upstream::UpstreamClient& upstream)
    : config_(config),
      upstream_(upstream),
      pool_sweep_(io),
      key_sync_(io),
      ledger_write_(io),
      credentials_(std::move(credentials)),
      metrics_(std::make_unique<metrics::GatewayMetrics>(config.models)),
      // Turned off: null, and the Responses routes say so; failing to open: a store that answers
      // "unavailable" (make_store.hpp), so the daemon serves everything else.
      responses_store_(config.store.enabled ? store::MakeResponseStore(config, *metrics_)
                                            : nullptr),
      keys_(std::make_unique<keys::KeyRegistry>(store::SystemUnixClock())),
      usage_store_(store::MakeUsageStore(config.store)),
      ledger_(usage_store_
                  ? std::make_unique<ledger::UsageLedger>(metrics_.get(), kMaxQueuedUsageRows)
                  : nullptr),
      handlers_(std::make_unique<Handlers>(Handlers{
          routes::ModelsHandler(config.models),
          routes::HealthHandler(config, *credentials_, *metrics_),
          routes::ChatCompletionsHandler(
              config,
              upstream::CallContext{config.upstream, *credentials_, upstream, metrics_.get()}),
          routes::MessagesHandler(config, upstream::CallContext{config.upstream, *credentials_,
                                                                upstream, metrics_.get()}),
          routes::ResponsesHandler(
              config,
              upstream::CallContext{config.upstream, *credentials_, upstream, metrics_.get()},
              responses_store_),
          routes::KeyHandler(OpenKeyStore(config), *keys_, store::SystemUnixClock()),
          routes::UsageHandler(usage_store_, ledger_.get(), ledger::SystemMillisClock()),
          routes::UiHandler()})),
      pipeline_(BuildPipeline(
          config, *handlers_, *keys_, ledger_.get(), *metrics_,
          [this] { return server_ ? server_->active_connections() : 0; }, gate_)),
      server_(std::make_unique<server::Server>(io, config, *pipeline_, gate_)) {}

Gateway::~Gateway() {
  // The io threads have stopped: the usage rows and spends counted since the last pass go out
  // now, blocking.
  if (ledger_) {
    ledger_->WriteNow(*usage_store_);
  }
  if (key_store_) {
    if (auto spends = keys_->TakeChangedSpends(); !spends.empty()) {
      key_store_->SaveSpendsNow(std::move(spends));
    }
  }
}

std::shared_ptr<store::KeyStore> Gateway::OpenKeyStore(const config::Config& config) {
  auto opened = store::MakeKeyStore(config.store);
  keys_->ReplaceAll(std::move(opened.keys));
  if (opened.store) {
    spdlog::info("virtual keys: {} in the store", keys_->size());
  }
  key_store_ = opened.store;
  return opened.store;
}

Result<tcp::endpoint> Gateway::Start() {
  auto endpoint = server_->Listen();
  if (endpoint && key_store_) {
    net::co_spawn(key_sync_.get_executor(),
                  keys::KeepKeysInSync(*keys_, *key_store_, key_sync_, std::chrono::seconds(1)),
                  [](const std::exception_ptr& error) {
                    if (error) {
                      spdlog::error("virtual key sync ended by an exception (a bug)");
                    }
                  });
  }
  if (endpoint && ledger_) {
    net::co_spawn(
        ledger_write_.get_executor(),
        ledger::KeepLedgerWritten(*ledger_, *usage_store_, ledger_write_, kLedgerWriteInterval,
                                  config_.store.usage_ttl, ledger::SystemMillisClock()),
        [](const std::exception_ptr& error) {
          if (error) {
            spdlog::error("usage ledger writer ended by an exception (a bug)");
          }
        });
  }
  if (endpoint) {
    net::co_spawn(pool_sweep_.get_executor(), SweepIdleUpstreamConnections(),
                  [](const std::exception_ptr& error) {
                    if (error) {
                      spdlog::error("idle upstream connection sweep ended by an exception (a bug)");
                    }
                  });
  }
  return endpoint;
}

Awaitable<void> Gateway::SweepIdleUpstreamConnections() {
  // Half the idle timeout: a connection is closed between one and one and a half timeouts after
  // its last use.
  const auto interval = std::max<std::chrono::milliseconds>(config_.upstream.pool_idle_timeout / 2,
                                                            std::chrono::milliseconds(10));
  for (;;) {
    pool_sweep_.expires_after(interval);
    auto [ec] = co_await pool_sweep_.async_wait();
    if (ec) {
      co_return;  // cancelled by Shutdown
    }
    upstream_.CloseExpiredIdleConnections();
  }
}

void Gateway::Shutdown(std::function<void()> on_done) {
  // The timer belongs to the listener's io_context; Shutdown may be called from any thread.
  net::post(pool_sweep_.get_executor(), [this] {
    pool_sweep_.cancel();
    key_sync_.cancel();      // ~Gateway writes the last spends
    ledger_write_.cancel();  // and the last usage rows
  });
  server_->Shutdown(std::move(on_done));
}

}  // namespace claudegate
