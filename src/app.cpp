#include "claudegate/app.hpp"

#include <future>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "claudegate/config/open_files.hpp"
#include "claudegate/credentials/make_credential_source.hpp"
#include "claudegate/gateway.hpp"
#include "claudegate/keys/key_command.hpp"
#include "claudegate/logging.hpp"
#include "claudegate/upstream/https_token_endpoint.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace claudegate {
namespace {

unsigned ThreadCount(const config::Config& config) {
  if (config.threads > 0) {
    return config.threads;
  }
  return std::max(1U, std::thread::hardware_concurrency());
}

// Raises the open-files soft limit to the hard one and fits the connection limits into it, so the
// listener never runs out of descriptors before its own limit (docs/configuration.md, "Open
// files"). Logged once: what was raised, and what was clamped and why.
void FitLimitsToOpenFiles(config::Config& config, unsigned threads) {
  const auto limit = config::RaiseOpenFilesLimit();
  if (limit.soft == 0) {
    return;  // getrlimit failed; keep the configured limits
  }
  if (limit.soft > limit.before) {
    spdlog::info("open-files limit raised from {} to {}", limit.before, limit.soft);
  }
  const auto reserve = config::OpenFilesReserve(threads);
  const auto budget = config::FitConnectionsToOpenFiles(
      config.limits.max_connections, config.upstream.max_idle_connections, limit.soft, reserve);
  if (budget.clamped) {
    spdlog::warn(
        "open-files limit {} (hard {}) is too low for max_connections {} and "
        "upstream.max_idle_connections {}: serving at most {} connection(s) with {} idle upstream "
        "connection(s) (each connection may hold an upstream connection; {} descriptors are kept "
        "for the rest). Raise the limit (ulimit -n, systemd LimitNOFILE=, docker --ulimit nofile=) "
        "to serve more",
        limit.soft, limit.hard, config.limits.max_connections, config.upstream.max_idle_connections,
        budget.max_connections, budget.max_idle_connections, reserve);
  }
  config.limits.max_connections = budget.max_connections;
  config.upstream.max_idle_connections = budget.max_idle_connections;
}

// `claudegate healthcheck [URL]` for Docker's HEALTHCHECK: no curl in the image, so the binary
// probes itself. Exit 0 when the liveness probe answers 200.
int RunHealthcheck(const std::string& url_text, const config::EnvLookup& env, std::ostream& err) {
  // Defaults to this container's own PORT, so a HEALTHCHECK needs no URL.
  const std::string port = env("PORT").value_or("4000");
  const std::string url =
      url_text.empty() ? "http://127.0.0.1:" + (port.empty() ? "4000" : port) + "/health/liveliness"
                       : url_text;
  net::io_context io;
  config::Upstream probe_config;
  probe_config.base_url = url;
  auto client = upstream::UpstreamClient::Create(probe_config);
  if (!client) {
    err << "healthcheck: " << client.error().message << "\n";
    return kExitRuntimeFailure;
  }
  int code = kExitRuntimeFailure;
  net::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        upstream::UpstreamRequest request;
        request.method = http::verb::get;
        auto response = co_await (*client)->SendTo(url, request);
        if (!response) {
          err << "healthcheck: " << url << " is not answering\n";
          co_return;
        }
        code = response->status() == 200 ? kExitOk : kExitRuntimeFailure;
        if (code != kExitOk) {
          err << "healthcheck: status " << response->status() << "\n";
        }
      },
      net::detached);
  io.run_for(std::chrono::seconds(5));
  return code;
}

}  // namespace

int RunApp(const std::vector<std::string>& args, const config::EnvLookup& env, std::ostream& out,
           std::ostream& err) {
  auto command_line = config::ParseCommandLine(args);
  if (!command_line) {
    err << "claudegate: " << command_line.error().message << "\n";
    return kExitBadConfig;
  }
  if (command_line->help) {
    out << config::UsageText();
    return kExitOk;
  }
  if (command_line->version) {
    out << "claudegate " << CLAUDEGATE_VERSION << "\n";
    return kExitOk;
  }
  if (command_line->healthcheck) {
    return RunHealthcheck(command_line->healthcheck_url, env, err);
  }
  auto loaded = config::LoadConfig(*command_line, env);
  if (!loaded) {
    err << "claudegate: configuration error: " << loaded.error().message << "\n";
    return kExitBadConfig;
  }
  config::Config& config = *loaded;
  if (command_line->check_config) {
    out << config::DescribeConfig(config);
    return kExitOk;
  }
  if (command_line->key_command) {
    // The command's output is JSON on stdout; what the store logs goes to stderr.
    spdlog::set_default_logger(spdlog::stderr_logger_st("claudegate-key"));
    return keys::RunKeyCommand(command_line->key_args, config, out, err);
  }

  logging::Configure(config.logging);
  for (const auto& warning : config.warnings) {
    spdlog::warn("{}", warning);
  }
  // The io_context is created first so it outlives everything holding sockets (the upstream
  // pool's idle connections are destroyed with the client).
  const unsigned threads = ThreadCount(config);
  FitLimitsToOpenFiles(config, threads);
  // One io_context per thread (concurrency hint 1), connections dealt round-robin by the
  // listener: a connection and its upstream socket stay on one thread, with no strands and no
  // cross-thread hand-offs. `io` also runs the listener, signals and the credential source.
  net::io_context io(1);
  std::vector<std::unique_ptr<net::io_context>> more_io;
  std::vector<net::io_context*> workers{&io};
  for (unsigned i = 1; i < threads; ++i) {
    workers.push_back(more_io.emplace_back(std::make_unique<net::io_context>(1)).get());
  }
  auto stop_all = [&workers] {
    for (net::io_context* worker : workers) {
      worker->stop();
    }
  };
  auto upstream = upstream::UpstreamClient::Create(config.upstream);
  if (!upstream) {
    err << "claudegate: configuration error: " << upstream.error().message << "\n";
    return kExitBadConfig;
  }
  upstream::HttpsTokenEndpoint token_endpoint(**upstream, config.credentials.oauth_token_url);
  credentials::CredentialSettings settings;
  settings.claude_code_oauth_token = config.credentials.oauth_token;
  settings.claude_config_dir = config.credentials.config_dir;
  settings.anthropic_api_key = config.credentials.api_key;
  settings.home = env("HOME").value_or("");
  auto credential_source =
      credentials::MakeCredentialSource(settings, token_endpoint, net::make_strand(io));

  Gateway gateway(io, config, credential_source, **upstream);
  gateway.SpreadConnectionsOver(workers);
  auto endpoint = gateway.Start();
  if (!endpoint) {
    spdlog::error("{}", endpoint.error().message);
    return endpoint.error().kind == ErrorKind::kInvalidRequest ? kExitBadConfig
                                                               : kExitRuntimeFailure;
  }
  spdlog::info("claudegate {} listening on {}://{}:{} with {} thread(s); credentials: {}",
               CLAUDEGATE_VERSION, config.tls.Enabled() ? "https" : "http",
               endpoint->address().to_string(), endpoint->port(), threads,
               credential_source->Status().value("source", "none"));

  // SIGTERM/SIGINT: stop accepting, drain within the grace period, then stop the io threads.
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](error_code ec, int signal_number) {
    if (ec) {
      return;
    }
    spdlog::info("signal {} received: draining {} connection(s) (grace {} ms)", signal_number,
                 gateway.server().active_connections(), config.limits.shutdown_grace.count());
    gateway.Shutdown([&stop_all] {
      spdlog::info("all connections closed; exiting");
      stop_all();
    });
    // A second signal means "now".
    signals.async_wait([&stop_all](error_code second_ec, int) {
      if (!second_ec) {
        stop_all();
      }
    });
  });

  std::vector<std::thread> pool;
  for (auto& worker : more_io) {
    pool.emplace_back([&worker] {
      // Idle workers must not return before the first connection arrives; stop_all() ends them.
      auto guard = net::make_work_guard(*worker);
      worker->run();
    });
  }
  io.run();
  for (auto& thread : pool) {
    thread.join();
  }
  server::DrainStoppedContexts(workers);
  spdlog::default_logger()->flush();
  return kExitOk;
}

}  // namespace claudegate
