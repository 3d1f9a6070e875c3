#include "tablet/engine/write_txn.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {
namespace {

constexpr char kStatementSavepoint[] = "_shale_statement";

}  // namespace

absl::StatusOr<std::unique_ptr<WriteTxn>> WriteTxn::Begin(ConnectionPool::Lease writer,
                                                          CommitHook* hook) {
  std::unique_ptr<WriteTxn> txn(new WriteTxn(std::move(writer), hook));
  RETURN_IF_ERROR(txn->writer_->Exec("BEGIN IMMEDIATE"));
  txn->open_ = true;
  if (hook != nullptr) {
    absl::Status status =
        txn->writer_->WithInternalAccess([&] { return hook->AfterBegin(txn->db()); });
    if (!status.ok()) {
      txn->Rollback();
      return status;
    }
  }
  return txn;
}

WriteTxn::~WriteTxn() { Rollback(); }

absl::Status WriteTxn::NotOpen() const {
  return absl::FailedPreconditionError("the write transaction is no longer open");
}

absl::StatusOr<Statement> WriteTxn::Prepare(absl::string_view sql, Access access) {
  if (!open_) return NotOpen();
  return writer_->Prepare(sql, access);
}

absl::StatusOr<ResultSet> WriteTxn::Run(Statement& statement, absl::Span<const Value> binds,
                                        RowCallback on_row) {
  if (!open_) return NotOpen();
  const StatementInfo& info = statement.info();
  if (info.is_ddl && hook_ != nullptr) {
    writer_->WithInternalAccess([&] { hook_->BeforeDdl(db()); });
  }
  absl::StatusOr<ResultSet> result = statement.access() != Access::kInternal && info.is_ddl
                                         ? RunChecked(statement, binds, on_row)
                                         : statement.Run(binds, on_row);
  if (!result.ok()) {
    // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
    if (sqlite3_get_autocommit(db())) MarkRolledBack();
    return result.status();
  }
  if (!info.read_only) {
    wrote_ = true;
    if (hook_ != nullptr) {
      std::string sql = statement.sql();
      writer_->WithInternalAccess([&] { hook_->OnWrite(db(), sql, info.is_ddl); });
    }
  }
  return result;
}

absl::StatusOr<ResultSet> WriteTxn::RunChecked(Statement& statement, absl::Span<const Value> binds,
                                               RowCallback on_row) {
  ASSIGN_OR_RETURN(std::string reserved_before, ReservedNames());
  RETURN_IF_ERROR(writer_->Exec(absl::StrCat("SAVEPOINT ", kStatementSavepoint).c_str()));
  absl::StatusOr<ResultSet> result = statement.Run(binds, on_row);
  absl::Status status = result.status();
  if (status.ok()) status = CheckDdl(statement.info(), reserved_before);
  if (sqlite3_get_autocommit(db())) return status.ok() ? result : status;
  if (!status.ok()) {
    // Undo just this statement; the transaction stays usable.
    writer_->Exec(absl::StrCat("ROLLBACK TO ", kStatementSavepoint).c_str()).IgnoreError();
  }
  absl::Status released = writer_->Exec(absl::StrCat("RELEASE ", kStatementSavepoint).c_str());
  if (!status.ok()) return status;
  if (!released.ok()) return released;
  return result;
}

absl::StatusOr<std::string> WriteTxn::ReservedNames() {
  ASSIGN_OR_RETURN(Statement names,
                   writer_->Prepare("SELECT name FROM sqlite_schema WHERE name LIKE '\\_shale\\_%' "
                                    "ESCAPE '\\' ORDER BY name",
                                    Access::kInternal));
  std::string joined;
  auto append = [&joined](absl::Span<const Column>, absl::Span<const Value> row) {
    absl::StrAppend(&joined, row[0].is_null() ? "" : row[0].text(), ",");
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(names.Run({}, append).status());
  return joined;
}

absl::Status WriteTxn::CheckDdl(const StatementInfo& info, const std::string& reserved_before) {
  for (const std::string& table : info.created_tables) {
    ASSIGN_OR_RETURN(
        Statement pk,
        writer_->Prepare("SELECT count(*) FROM pragma_table_info(?1, 'main') WHERE pk > 0",
                         Access::kInternal));
    int64_t pk_columns = 0;
    auto read = [&pk_columns](absl::Span<const Column>, absl::Span<const Value> row) {
      pk_columns = row[0].int64();
      return absl::OkStatus();
    };
    Value name = Value::Text(table);
    RETURN_IF_ERROR(pk.Run(absl::MakeConstSpan(&name, 1), read).status());
    if (pk_columns == 0) {
      return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidTableDefinition,
                      absl::StrCat("table ", table,
                                   " has no PRIMARY KEY; Shale replicates rows by primary key"));
    }
  }
  ASSIGN_OR_RETURN(std::string reserved_after, ReservedNames());
  if (reserved_after != reserved_before) {
    return SqlError(absl::StatusCode::kPermissionDenied, sqlstate::kInsufficientPrivilege,
                    absl::StrCat("permission denied: names starting with ", kReservedPrefix,
                                 " are reserved for Shale's internal tables"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ResultSet> WriteTxn::Execute(absl::string_view sql, absl::Span<const Value> binds,
                                            Access access) {
  ASSIGN_OR_RETURN(Statement statement, Prepare(sql, access));
  std::vector<Row> rows;
  ASSIGN_OR_RETURN(ResultSet summary, Run(statement, binds, RowCollector(&rows)));
  summary.rows = std::move(rows);
  return summary;
}

absl::Status WriteTxn::Commit() {
  if (!open_) return NotOpen();
  if (hook_ != nullptr) {
    absl::Status status = writer_->WithInternalAccess([&] { return hook_->BeforeCommit(db()); });
    if (!status.ok()) {
      Rollback();
      return status;
    }
  }
  absl::Status status = writer_->Exec("COMMIT");
  if (!status.ok()) {
    Rollback();
    return status;
  }
  open_ = false;
  if (hook_ != nullptr) {
    writer_->WithInternalAccess([&] { hook_->AfterCommit(db()); });
    commit_token_ = hook_->TakeCommitToken();
  }
  return absl::OkStatus();
}

void WriteTxn::Rollback() {
  if (!open_) return;
  if (!sqlite3_get_autocommit(db())) writer_->Exec("ROLLBACK").IgnoreError();
  MarkRolledBack();
}

void WriteTxn::MarkRolledBack() {
  open_ = false;
  if (hook_ != nullptr) writer_->WithInternalAccess([&] { hook_->AfterRollback(db()); });
}

}  // namespace shale::tablet::engine
