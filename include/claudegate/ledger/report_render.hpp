/// @file report_render.hpp
/// The usage reports' bodies (docs/ledger.md): sums and rows as JSON or CSV. Pure.
///
/// CSV follows RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180): a header line, CRLF line ends,
/// fields with a comma, quote or line break quoted. A text field starting with = + - @ gets a
/// leading apostrophe, so that a spreadsheet never runs a model name as a formula (OWASP, "CSV
/// Injection": https://owasp.org/www-community/attacks/CSV_Injection).
#pragma once

#include <string>
#include <vector>

#include "claudegate/ledger/report_query.hpp"
#include "claudegate/store/usage_record.hpp"

namespace claudegate::ledger {

/// The name a report gives a row's key: its alias (or `sk-...abcd` name), `master` for the
/// master key.
[[nodiscard]] std::string KeyLabel(const std::string& key_alias, const std::string& key_token);

/// `GET /usage/report`: `{"object":"usage.report", start, end, group_by, data: [...], totals}`.
[[nodiscard]] std::string ReportJson(const ReportQuery& query,
                                     const std::vector<store::UsageSum>& sums);
/// The same as CSV: one line per group, the grouped columns first.
[[nodiscard]] std::string ReportCsv(const ReportQuery& query,
                                    const std::vector<store::UsageSum>& sums);

/// `GET /usage/logs`: `{"object":"list","data":[rows],"has_more":…}`.
[[nodiscard]] std::string RowsJson(const std::vector<store::UsageRecord>& rows, bool has_more);
/// The same as CSV.
[[nodiscard]] std::string RowsCsv(const std::vector<store::UsageRecord>& rows);

/// One CSV field, quoted and neutralised as above.
[[nodiscard]] std::string CsvField(std::string_view text);

}  // namespace claudegate::ledger
