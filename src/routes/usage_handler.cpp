#include "claudegate/routes/usage_handler.hpp"

#include "claudegate/keys/key_text.hpp"
#include "claudegate/ledger/five_hour_blocks.hpp"
#include "claudegate/ledger/litellm_spend.hpp"
#include "claudegate/ledger/report_query.hpp"
#include "claudegate/ledger/report_render.hpp"
#include "claudegate/server/query_string.hpp"
#include "claudegate/server/reply.hpp"

namespace claudegate::routes {
namespace {

using server::Outcome;
using server::RequestContext;

Error UsageNeedsAStore() {
  return Error(ErrorKind::kServiceUnavailable,
               "The usage ledger needs the store, which is turned off or failed to open "
               "(claudegate.store; docs/ledger.md).",
               {}, "store_unavailable");
}

Error UsageStoreFailed() {
  return Error(ErrorKind::kServiceUnavailable,
               "The usage ledger could not be read. Try again; the log says why.", {},
               "store_unavailable");
}

Error UsageMasterKeyOnly() {
  return Error(ErrorKind::kPermission,
               "Only the master key (LITELLM_MASTER_KEY) reads usage reports.", {},
               "master_key_required");
}

Awaitable<Outcome> SendReport(RequestContext& ctx, ledger::ReportFormat format, std::string body) {
  if (format == ledger::ReportFormat::kCsv) {
    const server::HeaderList headers = {
        {"content-disposition", "attachment; filename=\"claudegate-usage.csv\""}};
    co_await ctx.sink.Send(200, "text/csv; charset=utf-8", std::move(body), headers);
    co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
  }
  co_return co_await server::JsonReply(ctx, 200, std::move(body));
}

// The token a LiteLLM `api_key` parameter names: the key itself (hashed here) or its token.
std::optional<std::string> NamedKeyToken(std::string_view text) {
  if (keys::LooksLikeToken(text)) {
    return std::string(text);
  }
  if (text.starts_with("sk-") && text.size() <= 256) {
    return keys::TokenOf(text);
  }
  return std::nullopt;
}

Error BadApiKey() {
  return Error(ErrorKind::kInvalidRequest,
               "api_key must be a virtual key (sk-…) or its token (64 hex digits).", "api_key",
               "invalid_request_error");
}

}  // namespace

Awaitable<std::optional<Outcome>> UsageHandler::Admit(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  if (!ctx.key_token.empty()) {
    co_return co_await server::LocalReply(ctx, UsageMasterKeyOnly(), "usage_forbidden");
  }
  if (!store_) {
    co_return co_await server::LocalReply(ctx, UsageNeedsAStore(), "store_off");
  }
  if (ledger_ != nullptr) {
    co_await ledger_->Write(*store_);  // failure: the rows stay queued, the report goes on
  }
  co_return std::nullopt;
}

Awaitable<Outcome> UsageHandler::Report(RequestContext& ctx) const {
  if (auto refused = co_await Admit(ctx)) {
    co_return *refused;
  }
  auto query = ledger::ParseReportQuery(ctx.request.target(), now_());
  if (!query) {
    co_return co_await server::LocalReply(ctx, query.error(), "invalid_request");
  }
  auto sums = co_await store_->Sum(query->filter, query->grouping);
  if (sums.status != store::LookupStatus::kFound) {
    co_return co_await server::LocalReply(ctx, UsageStoreFailed(), "store_failed");
  }
  if (query->by_block) {
    sums.value = ledger::FoldIntoBlocks(sums.value);
  }
  // Named, not a conditional inside the co_await: GCC 12 destroys such a temporary twice
  // (docs/architecture.md, "GCC 12 coroutine pitfalls").
  std::string body = query->format == ledger::ReportFormat::kCsv
                         ? ledger::ReportCsv(*query, sums.value)
                         : ledger::ReportJson(*query, sums.value);
  co_return co_await SendReport(ctx, query->format, std::move(body));
}

Awaitable<Outcome> UsageHandler::Logs(RequestContext& ctx) const {
  if (auto refused = co_await Admit(ctx)) {
    co_return *refused;
  }
  auto query = ledger::ParseReportQuery(ctx.request.target(), now_());
  if (!query) {
    co_return co_await server::LocalReply(ctx, query.error(), "invalid_request");
  }
  // One row more than asked tells whether there is a next page.
  auto rows = co_await store_->Rows(query->filter, query->limit + 1, query->offset);
  if (rows.status != store::LookupStatus::kFound) {
    co_return co_await server::LocalReply(ctx, UsageStoreFailed(), "store_failed");
  }
  const bool has_more = static_cast<std::int64_t>(rows.value.size()) > query->limit;
  if (has_more) {
    rows.value.pop_back();
  }
  std::string body = query->format == ledger::ReportFormat::kCsv
                         ? ledger::RowsCsv(rows.value)
                         : ledger::RowsJson(rows.value, has_more);  // named: as in Report
  co_return co_await SendReport(ctx, query->format, std::move(body));
}

Awaitable<Outcome> UsageHandler::SpendLogs(RequestContext& ctx) const {
  if (auto refused = co_await Admit(ctx)) {
    co_return *refused;
  }
  const std::string_view target = ctx.request.target();
  const auto start = server::QueryParameter(target, "start_date");
  const auto end = server::QueryParameter(target, "end_date");
  // LiteLLM reads the dates only together; without both it lists every row (here the newest
  // `limit`, 1000 unless asked: a production ledger is too big for one answer).
  const bool by_dates = start && end;
  auto query = ledger::ParseReportQuery(target, now_());
  if (!query) {
    co_return co_await server::LocalReply(ctx, query.error(), "invalid_request");
  }
  if (!by_dates) {
    query->filter.from_ms = 0;
    query->filter.to_ms = now_() + 1;
  }
  if (const auto api_key = server::QueryParameter(target, "api_key")) {
    const auto token = NamedKeyToken(*api_key);
    if (!token) {
      co_return co_await server::LocalReply(ctx, BadApiKey(), "invalid_request");
    }
    query->filter.key_token = *token;
  } else if (const auto request_id = server::QueryParameter(target, "request_id")) {
    query->filter.request_id = request_id->substr(0, 256);
  }
  if (by_dates && server::QueryParameter(target, "summarize") != "false") {
    query->grouping.period = store::UsageGrouping::Period::kDay;
    query->grouping.by_model = true;
    query->grouping.by_key = true;
    auto sums = co_await store_->Sum(query->filter, query->grouping);
    if (sums.status != store::LookupStatus::kFound) {
      co_return co_await server::LocalReply(ctx, UsageStoreFailed(), "store_failed");
    }
    co_return co_await server::JsonReply(ctx, 200,
                                         ledger::SpendLogDaysJson(sums.value, query->filter.to_ms));
  }
  auto rows = co_await store_->Rows(query->filter, query->limit, 0);
  if (rows.status != store::LookupStatus::kFound) {
    co_return co_await server::LocalReply(ctx, UsageStoreFailed(), "store_failed");
  }
  co_return co_await server::JsonReply(ctx, 200, ledger::SpendLogRowsJson(rows.value));
}

Awaitable<Outcome> UsageHandler::GlobalSpendReport(RequestContext& ctx) const {
  if (auto refused = co_await Admit(ctx)) {
    co_return *refused;
  }
  const std::string_view target = ctx.request.target();
  if (!server::QueryParameter(target, "start_date") ||
      !server::QueryParameter(target, "end_date")) {
    const Error missing(ErrorKind::kInvalidRequest,
                        "start_date and end_date are required (YYYY-MM-DD).", "start_date",
                        "invalid_request_error");
    co_return co_await server::LocalReply(ctx, missing, "invalid_request");
  }
  auto query = ledger::ParseReportQuery(target, now_());
  if (!query) {
    co_return co_await server::LocalReply(ctx, query.error(), "invalid_request");
  }
  const auto api_key = server::QueryParameter(target, "api_key");
  const std::string group_by = server::QueryParameter(target, "group_by").value_or("team");
  if (api_key) {
    const auto token = NamedKeyToken(*api_key);
    if (!token) {
      co_return co_await server::LocalReply(ctx, BadApiKey(), "invalid_request");
    }
    query->filter.key_token = *token;
  } else if (group_by != "team" && group_by != "api_key") {
    const Error unsupported(ErrorKind::kInvalidRequest,
                            "group_by must be team or api_key: claudegate has no customers or "
                            "internal users (docs/ledger.md).",
                            "group_by", "invalid_request_error");
    co_return co_await server::LocalReply(ctx, unsupported, "invalid_request");
  }
  const bool per_key = api_key.has_value() || group_by == "api_key";
  query->grouping = {};
  query->grouping.period =
      per_key ? store::UsageGrouping::Period::kNone : store::UsageGrouping::Period::kDay;
  query->grouping.by_model = true;
  query->grouping.by_key = true;
  auto sums = co_await store_->Sum(query->filter, query->grouping);
  if (sums.status != store::LookupStatus::kFound) {
    co_return co_await server::LocalReply(ctx, UsageStoreFailed(), "store_failed");
  }
  std::string body = per_key ? ledger::GlobalSpendByKeyJson(sums.value)
                             : ledger::GlobalSpendByTeamJson(sums.value);  // named: as in Report
  co_return co_await server::JsonReply(ctx, 200, std::move(body));
}

}  // namespace claudegate::routes
