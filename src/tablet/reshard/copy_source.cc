#include "tablet/reshard/copy_source.h"

#include <memory>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/query_result.h"
#include "tablet/reshard/row_filter.h"
#include "tablet/reshard/sql_ident.h"

namespace shale::tablet::reshard {
namespace {

using engine::TxnId;

constexpr int kDefaultBatchRows = 1000;

// Rolls the read transaction back when the call ends, however it ends.
class ReadTxn {
 public:
  explicit ReadTxn(engine::Engine& engine) : engine_(engine) {}
  ~ReadTxn() {
    if (id_.has_value()) engine_.Rollback(*id_).IgnoreError();
  }
  absl::Status Begin() {
    ASSIGN_OR_RETURN(TxnId id, engine_.Begin(engine::TxnMode::kReadOnly, engine::Access::kDba));
    id_ = id;
    return absl::OkStatus();
  }
  TxnId id() const { return *id_; }

 private:
  engine::Engine& engine_;
  std::optional<TxnId> id_;
};

// The table's real name (as created) and its columns, in order.
struct TableInfo {
  std::string name;
  std::vector<std::string> columns;
};

absl::StatusOr<TableInfo> ReadTableInfo(engine::Engine& engine, TxnId txn,
                                        absl::string_view table) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.Execute(txn,
                                  "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                  "name = ?1 COLLATE NOCASE",
                                  {engine::Value(table)}));
  if (rs.rows.empty()) {
    return absl::NotFoundError(absl::StrCat("table ", table, " does not exist on this tablet"));
  }
  TableInfo info;
  info.name = rs.rows[0][0].text();
  ASSIGN_OR_RETURN(engine::ResultSet cols,
                   engine.Execute(txn, "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
                                  {engine::Value(info.name)}));
  for (const engine::Row& r : cols.rows) info.columns.push_back(r[0].text());
  return info;
}

}  // namespace

absl::StatusOr<ChangePosition> SnapshotPosition(engine::Engine& engine, TxnId txn) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.Execute(txn, "SELECT seq, term FROM _shale_log ORDER BY seq DESC LIMIT 1"));
  ChangePosition p;
  if (!rs.rows.empty()) {
    p.set_seq(rs.rows[0][0].int64());
    p.set_term(rs.rows[0][1].int64());
  }
  return p;
}

absl::StatusOr<std::vector<std::string>> TableSchema(engine::Engine& engine, TxnId txn,
                                                     absl::string_view table) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.Execute(txn,
                                  "SELECT type, sql FROM sqlite_schema WHERE tbl_name = ?1 "
                                  "COLLATE NOCASE AND type IN ('table', 'index') AND sql IS NOT "
                                  "NULL ORDER BY type = 'index', name",
                                  {engine::Value(table)}));
  if (rs.rows.empty() || rs.rows[0][0].text() != "table") {
    return absl::NotFoundError(absl::StrCat("table ", table, " does not exist on this tablet"));
  }
  std::vector<std::string> out;
  for (const engine::Row& r : rs.rows) out.push_back(r[1].text());
  return out;
}

absl::Status CheckCopyableTable(absl::string_view table) {
  if (table.empty()) return absl::InvalidArgumentError("a table name is empty");
  if (absl::StartsWithIgnoreCase(table, "_shale_") || absl::StartsWithIgnoreCase(table, "sqlite_")) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", table, " is the database's own and is never copied"));
  }
  return absl::OkStatus();
}

absl::Status ServeCopyRows(engine::Engine& engine, const CopyRowsRequest& request,
                           const std::function<bool(const CopyRowsResponse&)>& send) {
  if (request.tables().empty()) {
    return absl::InvalidArgumentError("CopyRows needs at least one table");
  }
  if (request.batch_rows() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_rows must not be negative (got ", request.batch_rows(), ")"));
  }
  const int batch = request.batch_rows() > 0 ? request.batch_rows() : kDefaultBatchRows;
  absl::flat_hash_set<std::string> seen;
  for (const TableFilter& t : request.tables()) {
    RETURN_IF_ERROR(CheckCopyableTable(t.table()));
    if (!seen.insert(absl::AsciiStrToLower(t.table())).second) {
      return absl::InvalidArgumentError(absl::StrCat("table ", t.table(), " is named twice"));
    }
  }

  ReadTxn txn(engine);
  RETURN_IF_ERROR(txn.Begin());
  // The position first: the snapshot starts at the transaction's first read.
  ASSIGN_OR_RETURN(ChangePosition position, SnapshotPosition(engine, txn.id()));
  // Check every table before the first row goes out.
  std::vector<TableInfo> infos;
  std::vector<RowFilter> filters;
  std::vector<int> column_index;
  for (const TableFilter& t : request.tables()) {
    ASSIGN_OR_RETURN(TableInfo info, ReadTableInfo(engine, txn.id(), t.table()));
    RowFilter f(t, request.key_range());
    ASSIGN_OR_RETURN(int index, f.ColumnIndex(info.columns));
    infos.push_back(std::move(info));
    filters.push_back(std::move(f));
    column_index.push_back(index);
  }

  const absl::Status gone = absl::CancelledError("the CopyRows client went away");
  bool first = true;
  for (size_t i = 0; i < infos.size(); ++i) {
    const std::string& table = request.tables(i).table();
    CopyRowsResponse response;
    if (first) *response.mutable_position() = position;
    first = false;
    response.set_table(table);
    ASSIGN_OR_RETURN(std::vector<std::string> schema, TableSchema(engine, txn.id(), infos[i].name));
    for (std::string& s : schema) response.add_schema(std::move(s));
    for (const std::string& c : infos[i].columns) response.add_columns(c);
    if (!send(response)) return gone;

    int64_t scanned = 0;
    CopyRowsResponse rows;
    rows.set_table(table);
    absl::Status status = engine
                              .ExecuteStream(txn.id(), absl::StrCat("SELECT * FROM ", QuoteIdent(infos[i].name)), {},
                                             [&](absl::Span<const engine::Column>,
                                                 absl::Span<const engine::Value> row) -> absl::Status {
                                               ++scanned;
                                               Row out;
                                               for (const engine::Value& v : row) {
                                                 *out.add_values() = ToProtoValue(v);
                                               }
                                               ASSIGN_OR_RETURN(bool keep,
                                                                filters[i].KeepRow(column_index[i], out.values()));
                                               if (!keep) return absl::OkStatus();
                                               *rows.add_rows() = std::move(out);
                                               if (rows.rows_size() < batch) return absl::OkStatus();
                                               rows.set_rows_scanned(scanned);
                                               if (!send(rows)) return gone;
                                               rows.clear_rows();
                                               return absl::OkStatus();
                                             })
                              .status();
    RETURN_IF_ERROR(status);
    rows.set_rows_scanned(scanned);
    rows.set_table_done(true);
    if (!send(rows)) return gone;
  }
  return absl::OkStatus();
}

}  // namespace shale::tablet::reshard
