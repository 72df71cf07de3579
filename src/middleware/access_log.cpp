#include "claudegate/middleware/access_log.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "claudegate/logging.hpp"

namespace claudegate::middleware {
namespace {

// Client-supplied text (the model name) must not be able to forge log lines.
std::string Printable(std::string_view text) {
  constexpr std::size_t kMaxLength = 100;
  std::string out(text.substr(0, kMaxLength));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

}  // namespace

AccessLogMiddleware::AccessLogMiddleware(bool json)
    : json_(json), logger_(logging::AccessLogger()) {}

Awaitable<server::Outcome> AccessLogMiddleware::Handle(server::RequestContext& ctx,
                                                       Next next) const {
  const server::Outcome outcome = co_await next(ctx);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - ctx.start)
                          .count();
  const double millis = static_cast<double>(micros) / 1000.0;
  const std::string_view method = ctx.request.method_string();
  if (json_) {
    nlohmann::json line = {{"type", "access"},         {"method", method},
                           {"path", ctx.Path()},       {"route", ctx.route},
                           {"status", outcome.status}, {"bytes", outcome.bytes},
                           {"duration_ms", millis},    {"request_id", ctx.request_id},
                           {"peer", ctx.peer}};
    if (!ctx.model.empty()) {
      line["model"] = ctx.model;
    }
    if (!ctx.key_label.empty()) {
      line["key"] = ctx.key_label;  // a virtual key's alias or sk-...abcd name, never the key
    }
    if (!ctx.details.empty()) {
      line["details"] = ctx.details;
    }
    const auto& usage = ctx.usage;
    if (usage.reported) {
      line["usage"] = {{"input_tokens", usage.input_tokens},
                       {"output_tokens", usage.output_tokens},
                       {"cache_read_tokens", usage.cache_read_tokens},
                       {"cache_write_tokens", usage.cache_write_tokens}};
    }
    if (!ctx.model.empty()) {
      line["stream"] = usage.stream;
    }
    if (usage.ttft_seconds) {
      line["ttft_ms"] = *usage.ttft_seconds * 1000.0;
    }
    if (!usage.upstream_error.empty()) {
      line["upstream_error"] = usage.upstream_error;
    }
    if (!usage.refusal.empty()) {
      line["refusal"] = usage.refusal;
    }
    logger_->info(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    // The path is client-controlled: it is logged escaped by spdlog's {} formatting of a
    // string_view, and Beast already rejected control characters in the request target.
    std::string extra;
    if (!ctx.model.empty()) {
      extra += " model=" + Printable(ctx.model) + (ctx.usage.stream ? " stream" : "");
    }
    if (ctx.usage.reported) {
      extra += " tokens_in=" + std::to_string(ctx.usage.input_tokens) +
               " tokens_out=" + std::to_string(ctx.usage.output_tokens) +
               " cache_read=" + std::to_string(ctx.usage.cache_read_tokens) +
               " cache_write=" + std::to_string(ctx.usage.cache_write_tokens);
    }
    if (ctx.usage.ttft_seconds) {
      extra += " ttft=" + std::to_string(static_cast<int>(*ctx.usage.ttft_seconds * 1000)) + "ms";
    }
    if (!ctx.key_label.empty()) {
      extra += " key=" + ctx.key_label;
    }
    if (!ctx.details.empty()) {
      extra += " details=" + ctx.details;
    }
    if (!ctx.usage.refusal.empty()) {
      extra += " refusal=" + ctx.usage.refusal;
    }
    logger_->info("{} {} {} {}B {:.3f}ms id={} peer={}{}", method, ctx.Path(), outcome.status,
                  outcome.bytes, millis, ctx.request_id, ctx.peer, extra);
  }
  co_return outcome;
}

}  // namespace claudegate::middleware
