#include "tablet/reshard/event_applier.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "tablet/query_result.h"
#include "tablet/reshard/sql_ident.h"

namespace shale::tablet::reshard {
namespace {

using engine::Access;

// " WHERE "a" = ?N AND ..." over pk, binds appended to binds.
absl::Status AppendWhere(const google::protobuf::RepeatedPtrField<ColumnValue>& pk,
                         std::string* sql, std::vector<engine::Value>* binds) {
  if (pk.empty()) return absl::InvalidArgumentError("a change event has no primary key");
  std::vector<std::string> terms;
  for (const ColumnValue& c : pk) {
    ASSIGN_OR_RETURN(engine::Value v, FromProtoValue(c.value()));
    binds->push_back(std::move(v));
    terms.push_back(absl::StrCat(QuoteIdent(c.name()), " = ?", binds->size()));
  }
  absl::StrAppend(sql, " WHERE ", absl::StrJoin(terms, " AND "));
  return absl::OkStatus();
}

}  // namespace

absl::Status InsertRow(engine::WriteTxn& txn, absl::string_view table,
                       const std::vector<std::string>& columns,
                       const google::protobuf::RepeatedPtrField<Value>& values) {
  if (static_cast<size_t>(values.size()) != columns.size()) {
    return absl::InvalidArgumentError(absl::StrCat("a row of table ", table, " has ",
                                                   values.size(), " values for ", columns.size(),
                                                   " columns"));
  }
  std::vector<std::string> names;
  std::vector<std::string> marks;
  std::vector<engine::Value> binds;
  for (size_t i = 0; i < columns.size(); ++i) {
    names.push_back(QuoteIdent(columns[i]));
    marks.push_back(absl::StrCat("?", i + 1));
    ASSIGN_OR_RETURN(engine::Value v, FromProtoValue(values[i]));
    binds.push_back(std::move(v));
  }
  return txn
      .Execute(absl::StrCat("INSERT OR REPLACE INTO ", QuoteIdent(table), " (",
                            absl::StrJoin(names, ", "), ") VALUES (", absl::StrJoin(marks, ", "),
                            ")"),
               binds, Access::kInternal)
      .status();
}

absl::StatusOr<int64_t> ApplyEvent(engine::WriteTxn& txn, const ChangeEvent& event) {
  std::string sql;
  std::vector<engine::Value> binds;
  switch (event.op()) {
    case INSERT: {
      std::vector<std::string> columns;
      google::protobuf::RepeatedPtrField<Value> values;
      for (const ColumnValue& c : event.after()) {
        columns.push_back(c.name());
        *values.Add() = c.value();
      }
      RETURN_IF_ERROR(InsertRow(txn, event.table(), columns, values));
      return 1;
    }
    case UPDATE: {
      if (event.after().empty()) return 0;
      std::vector<std::string> sets;
      for (const ColumnValue& c : event.after()) {
        ASSIGN_OR_RETURN(engine::Value v, FromProtoValue(c.value()));
        binds.push_back(std::move(v));
        sets.push_back(absl::StrCat(QuoteIdent(c.name()), " = ?", binds.size()));
      }
      sql = absl::StrCat("UPDATE ", QuoteIdent(event.table()), " SET ", absl::StrJoin(sets, ", "));
      break;
    }
    case DELETE:
      sql = absl::StrCat("DELETE FROM ", QuoteIdent(event.table()));
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("cannot apply a ", ChangeOp_Name(event.op()), " event as a row change"));
  }
  RETURN_IF_ERROR(AppendWhere(event.pk(), &sql, &binds));
  ASSIGN_OR_RETURN(engine::ResultSet rs, txn.Execute(sql, binds, Access::kInternal));
  return rs.rows_affected;
}

absl::StatusOr<bool> EnsureTable(engine::WriteTxn& txn, absl::string_view table,
                                 const google::protobuf::RepeatedPtrField<std::string>& schema) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   txn.Execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1 "
                               "COLLATE NOCASE",
                               {engine::Value(table)}, Access::kInternal));
  if (!rs.rows.empty()) return false;
  if (schema.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("table ", table, " is missing here and its schema did not come with it"));
  }
  for (const std::string& stmt : schema) {
    absl::Status s = txn.Execute(stmt, {}, Access::kInternal).status();
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("creating table ", table, " (", stmt,
                                                 "): ", s.message()));
    }
  }
  return true;
}

}  // namespace shale::tablet::reshard
