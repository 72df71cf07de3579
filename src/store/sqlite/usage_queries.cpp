#include "usage_queries.hpp"

#include <string>

#include "pruning.hpp"

namespace claudegate::store::sqlite {
namespace {

constexpr const char* kUsageColumns =
    "time_ms, request_id, key_token, key_alias, route, model, model_used, stream, input_tokens, "
    "output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, status, error, latency_ms, "
    "ttft_ms, upstream_request_id, retries";

// Rows deleted per transaction when pruning (DeleteInChunks).
constexpr std::int64_t kPruneChunk = 2000;

// The WHERE clause of `filter` with numbered parameters from ?1; Bind() binds the same ones.
std::string WhereClause(const UsageFilter& filter) {
  std::string where = "WHERE time_ms >= ?1 AND time_ms < ?2";
  int next = 3;
  const auto add = [&](const std::string& condition) {
    where += " AND " + condition;
    ++next;
  };
  if (filter.key_alias) {
    // `master` is the master key's rows (no token); the parameter is bound either way, so the
    // numbering stays that of BindFilter.
    add(*filter.key_alias == "master"
            ? "(key_token = '' AND ?" + std::to_string(next) + " = 'master')"
            : "key_alias = ?" + std::to_string(next));
  }
  if (filter.key_token) {
    add("key_token = ?" + std::to_string(next));
  }
  if (filter.model) {
    const std::string n = std::to_string(next);
    add("(model = ?" + n + " OR model_used = ?" + n + ")");
  }
  if (filter.request_id) {
    add("request_id = ?" + std::to_string(next));
  }
  return where;
}

void BindFilter(Statement& statement, const UsageFilter& filter) {
  statement.Bind(1, filter.from_ms);
  statement.Bind(2, filter.to_ms);
  int next = 3;
  for (const auto* value :
       {&filter.key_alias, &filter.key_token, &filter.model, &filter.request_id}) {
    if (*value) {
      statement.Bind(next++, **value);
    }
  }
}

UsageRecord ReadUsageRow(Statement& row) {
  UsageRecord record;
  record.time_ms = row.Int(0);
  record.request_id = row.Text(1);
  record.key_token = row.Text(2);
  record.key_alias = row.Text(3);
  record.route = row.Text(4);
  record.model = row.Text(5);
  record.model_used = row.Text(6);
  record.stream = row.Int(7) != 0;
  record.input_tokens = row.Int(8);
  record.output_tokens = row.Int(9);
  record.cache_read_tokens = row.Int(10);
  record.cache_write_tokens = row.Int(11);
  record.cost_usd = row.Double(12);
  record.status = static_cast<int>(row.Int(13));
  record.error = row.Text(14);
  record.latency_ms = row.Int(15);
  if (!row.IsNull(16)) {
    record.ttft_ms = row.Int(16);
  }
  record.upstream_request_id = row.Text(17);
  record.retries = row.Int(18);
  return record;
}

}  // namespace

UsageQueries::UsageQueries(Connection& connection)
    : connection_(connection),
      insert_(connection.get(), std::string("INSERT INTO usage (") + kUsageColumns +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                    "?13, ?14, ?15, ?16, ?17, ?18, ?19)") {}

void UsageQueries::Append(const std::vector<UsageRecord>& rows) {
  Transaction transaction(connection_);
  for (const auto& row : rows) {
    StatementUse use(insert_);
    use->Bind(1, row.time_ms);
    use->Bind(2, row.request_id);
    use->Bind(3, row.key_token);
    use->Bind(4, row.key_alias);
    use->Bind(5, row.route);
    use->Bind(6, row.model);
    use->Bind(7, row.model_used);
    use->Bind(8, static_cast<std::int64_t>(row.stream ? 1 : 0));
    use->Bind(9, row.input_tokens);
    use->Bind(10, row.output_tokens);
    use->Bind(11, row.cache_read_tokens);
    use->Bind(12, row.cache_write_tokens);
    use->BindDouble(13, row.cost_usd);
    use->Bind(14, static_cast<std::int64_t>(row.status));
    use->Bind(15, row.error);
    use->Bind(16, row.latency_ms);
    if (row.ttft_ms) {
      use->Bind(17, *row.ttft_ms);
    } else {
      use->BindNull(17);
    }
    use->Bind(18, row.upstream_request_id);
    use->Bind(19, row.retries);
    use->Step();
  }
  transaction.Commit();
}

std::vector<UsageRecord> UsageQueries::Rows(const UsageFilter& filter, std::int64_t limit,
                                            std::int64_t offset) {
  // Reports are rare: a statement per call keeps the filters simple to read.
  Statement select(connection_.get(), std::string("SELECT ") + kUsageColumns + " FROM usage " +
                                          WhereClause(filter) + " ORDER BY time_ms DESC, seq DESC" +
                                          " LIMIT " + std::to_string(limit) + " OFFSET " +
                                          std::to_string(offset));
  std::vector<UsageRecord> rows;
  StatementUse use(select);
  BindFilter(select, filter);
  while (use->Step()) {
    rows.push_back(ReadUsageRow(select));
  }
  return rows;
}

std::vector<UsageSum> UsageQueries::Sum(const UsageFilter& filter, const UsageGrouping& grouping) {
  std::string period = "0";
  if (grouping.period == UsageGrouping::Period::kHour) {
    period = "(time_ms / 3600000) * 3600000";
  } else if (grouping.period == UsageGrouping::Period::kDay) {
    period = "(time_ms / 86400000) * 86400000";  // UTC days
  }
  const std::string model =
      grouping.by_model ? "CASE WHEN model_used <> '' THEN model_used ELSE model END" : "''";
  // By token, so a key renamed in the range stays one group; its latest label names it.
  const std::string key = grouping.by_key ? "key_token" : "''";
  const std::string alias = grouping.by_key ? "MAX(key_alias)" : "''";
  Statement select(
      connection_.get(),
      "SELECT " + period + " AS p, " + model + " AS m, " + key + " AS k, " + alias +
          ", COUNT(*), SUM(status >= 400), SUM(retries), SUM(input_tokens), SUM(output_tokens), "
          "SUM(cache_read_tokens), SUM(cache_write_tokens), SUM(cost_usd) FROM usage " +
          WhereClause(filter) + " GROUP BY p, m, k ORDER BY p, m, k");
  std::vector<UsageSum> sums;
  StatementUse use(select);
  BindFilter(select, filter);
  while (use->Step()) {
    UsageSum sum;
    sum.period_start_ms = select.Int(0);
    sum.model = select.Text(1);
    sum.key_token = select.Text(2);
    sum.key_alias = select.Text(3);
    sum.requests = select.Int(4);
    sum.errors = select.Int(5);
    sum.retries = select.Int(6);
    sum.input_tokens = select.Int(7);
    sum.output_tokens = select.Int(8);
    sum.cache_read_tokens = select.Int(9);
    sum.cache_write_tokens = select.Int(10);
    sum.cost_usd = select.Double(11);
    sums.push_back(std::move(sum));
  }
  return sums;
}

std::int64_t UsageQueries::PruneOlderThan(std::int64_t cutoff_ms) {
  Statement remove(connection_.get(),
                   "DELETE FROM usage WHERE seq IN (SELECT seq FROM usage WHERE time_ms < ?1 "
                   "ORDER BY time_ms LIMIT ?2)");
  return DeleteInChunks(connection_, remove, cutoff_ms, kPruneChunk);
}

}  // namespace claudegate::store::sqlite
