#include "tablet/vdiff/row_scan.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/query_result.h"
#include "tablet/reshard/sql_ident.h"
#include "tablet/vdiff/pk_order.h"
#include "tablet/vdiff/row_hash.h"

namespace shale::tablet::vdiff {

absl::StatusOr<TableLayout> ReadTableLayout(engine::Engine& engine, engine::TxnId txn,
                                            const std::string& table) {
  TableLayout layout;
  ASSIGN_OR_RETURN(engine::ResultSet name,
                   engine.Execute(txn,
                                  "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                  "name = ? COLLATE NOCASE",
                                  {engine::Value(table)}));
  if (name.rows.empty()) {
    return absl::NotFoundError(absl::StrCat("table ", table, " does not exist on this tablet"));
  }
  layout.table = name.rows[0][0].text();
  ASSIGN_OR_RETURN(engine::ResultSet info,
                   engine.Execute(txn, "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid",
                                  {engine::Value(layout.table)}));
  std::vector<std::pair<int64_t, int>> pk;  // (position in the key, column index)
  for (const engine::Row& row : info.rows) {
    const int index = static_cast<int>(layout.columns.size());
    layout.columns.push_back(row[0].text());
    if (row[1].int64() > 0) pk.emplace_back(row[1].int64(), index);
  }
  if (pk.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("table ", layout.table, " has no primary key"));
  }
  std::sort(pk.begin(), pk.end());
  for (const auto& [unused, index] : pk) layout.pk.push_back(index);
  return layout;
}

absl::Status ScanRowHashes(
    engine::Engine& engine, engine::TxnId txn, const reshard::RowFilter& filter,
    absl::FunctionRef<absl::Status(absl::Span<const engine::Value> pk, uint64_t hash)> on_row) {
  ASSIGN_OR_RETURN(TableLayout layout, ReadTableLayout(engine, txn, filter.filter().table()));
  ASSIGN_OR_RETURN(const int column, filter.ColumnIndex(layout.columns));
  std::vector<std::string> pk_names;
  std::string select;
  for (const std::string& c : layout.columns) {
    absl::StrAppend(&select, select.empty() ? "" : ", ", reshard::QuoteIdent(c));
  }
  for (int i : layout.pk) pk_names.push_back(layout.columns[i]);
  const std::string sql = absl::StrCat("SELECT ", select, " FROM ", reshard::QuoteIdent(layout.table),
                                       " ORDER BY ", PkOrderBy(pk_names));
  std::vector<engine::Value> pk(layout.pk.size());
  const size_t width = layout.columns.size();
  return engine
      .ExecuteStream(txn, sql, {},
                     [&](absl::Span<const engine::Column>,
                         absl::Span<const engine::Value> row) -> absl::Status {
                       if (row.size() != width) {
                         return absl::InternalError(absl::StrCat(
                             "table ", layout.table, ": a row of ", row.size(), " values, not ",
                             width));
                       }
                       if (column >= 0) {
                         ASSIGN_OR_RETURN(const bool keep,
                                          filter.KeepValue(ToProtoValue(row[column])));
                         if (!keep) return absl::OkStatus();
                       }
                       for (size_t i = 0; i < pk.size(); ++i) pk[i] = row[layout.pk[i]];
                       return on_row(pk, RowHash(row));
                     })
      .status();
}

}  // namespace shale::tablet::vdiff
