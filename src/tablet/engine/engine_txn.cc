// Engine: interactive transactions and the reaper of idle ones.
//
// Locking: Engine::mu_ guards the transaction table and each Txn's
// active_calls/last_active; Txn::mu serialises the calls on one transaction.
// mu_ is never held while waiting for Txn::mu or for a connection, so a slow
// statement in one transaction never blocks the others or the reaper.

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {
namespace {

absl::Status TxnNotFound(TxnId id) {
  return SqlError(absl::StatusCode::kNotFound, sqlstate::kNoActiveTransaction,
                  absl::StrCat("transaction ", id.value(), " not found"));
}

}  // namespace

absl::StatusOr<TxnId> Engine::Begin(TxnMode mode, Access access) {
  std::unique_ptr<WriteTxn> write;
  ConnectionPool::Lease reader;
  WriteGate::Ticket ticket;
  if (mode == TxnMode::kReadWrite) {
    ASSIGN_OR_RETURN(ticket, EnterGate());
    if (IsReadOnly()) return ReadOnlyError();
    ASSIGN_OR_RETURN(ConnectionPool::Lease writer, writer_->Acquire(options_.writer_wait));
    ASSIGN_OR_RETURN(write, WriteTxn::Begin(std::move(writer), options_.commit_hook));
  } else {
    ASSIGN_OR_RETURN(reader, readers_->Acquire(options_.reader_wait));
    // Read something now, so the snapshot is the one at Begin.
    absl::Status status = reader->Exec("BEGIN; SELECT 1 FROM sqlite_schema LIMIT 1");
    if (!status.ok()) {
      reader->Exec("ROLLBACK").IgnoreError();
      return status;
    }
  }
  TxnId id;
  {
    absl::MutexLock lock(&mu_);
    id = TxnId(next_txn_id_++);
  }
  auto txn = std::make_shared<Txn>(id, mode, access);
  {
    absl::MutexLock txn_lock(&txn->mu);
    txn->write = std::move(write);
    txn->reader = std::move(reader);
    txn->ticket = std::move(ticket);
  }
  absl::MutexLock lock(&mu_);
  txn->last_active = absl::Now();
  txns_[id.value()] = std::move(txn);
  return id;
}

absl::StatusOr<ResultSet> Engine::Execute(TxnId txn, absl::string_view sql,
                                          absl::Span<const Value> binds) {
  std::vector<Row> rows;
  ASSIGN_OR_RETURN(ResultSet rs, ExecuteStream(txn, sql, binds, RowCollector(&rows)));
  rs.rows = std::move(rows);
  return rs;
}

absl::StatusOr<ResultSet> Engine::ExecuteStream(TxnId txn, absl::string_view sql,
                                                absl::Span<const Value> binds, RowCallback on_row) {
  ASSIGN_OR_RETURN(std::shared_ptr<Txn> t, Enter(txn));
  bool ended = false;
  absl::StatusOr<ResultSet> result = RunInTxn(*t, sql, binds, on_row, &ended);
  absl::Status why =
      ended ? SqlError(absl::StatusCode::kAborted, sqlstate::kInFailedTransaction,
                       absl::StrCat("transaction ", txn.value(),
                                    " was rolled back after an error: ", result.status().message()))
            : absl::OkStatus();
  Leave(t, ended, why);
  return result;
}

absl::StatusOr<ResultSet> Engine::RunInTxn(Txn& txn, absl::string_view sql,
                                           absl::Span<const Value> binds, RowCallback on_row,
                                           bool* ended) {
  absl::MutexLock lock(&txn.mu);
  if (!txn.open) return TxnNotFound(txn.id);
  if (txn.mode == TxnMode::kReadOnly) {
    ASSIGN_OR_RETURN(Statement statement, txn.reader->Prepare(sql, txn.access));
    if (!statement.info().read_only) {
      return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction,
                      absl::StrCat("transaction ", txn.id.value(), " is read-only"));
    }
    RETURN_IF_ERROR(CheckUserStatement(statement));
    return statement.Run(binds, on_row);
  }
  absl::StatusOr<ResultSet> result;
  {
    // Finalised before the writer can be given back below.
    ASSIGN_OR_RETURN(Statement statement, txn.write->Prepare(sql, txn.access));
    if (!statement.info().read_only && IsReadOnly()) return ReadOnlyError();
    RETURN_IF_ERROR(CheckUserStatement(statement));
    result = txn.write->Run(statement, binds, on_row);
  }
  if (!txn.write->open()) {
    // SQLite rolled the whole transaction back (e.g. disk full).
    txn.open = false;
    txn.write.reset();
    *ended = true;
  }
  return result;
}

absl::Status Engine::Commit(TxnId txn) {
  ASSIGN_OR_RETURN(std::shared_ptr<Txn> t, Enter(txn));
  absl::Status status = EndTxn(*t, /*commit=*/true);
  Leave(t, /*ended=*/true, absl::OkStatus());
  return status;
}

absl::Status Engine::Rollback(TxnId txn) {
  ASSIGN_OR_RETURN(std::shared_ptr<Txn> t, Enter(txn));
  absl::Status status = EndTxn(*t, /*commit=*/false);
  Leave(t, /*ended=*/true, absl::OkStatus());
  return status;
}

absl::Status Engine::EndTxn(Txn& txn, bool commit) {
  absl::MutexLock lock(&txn.mu);
  if (!txn.open) return TxnNotFound(txn.id);
  txn.open = false;
  if (txn.mode == TxnMode::kReadOnly) {
    absl::Status status = txn.reader->Exec(commit ? "COMMIT" : "ROLLBACK");
    if (!status.ok() && !sqlite3_get_autocommit(txn.reader->raw())) {
      txn.reader->Exec("ROLLBACK").IgnoreError();
    }
    txn.reader.Release();
    return status;
  }
  // The ticket goes back last: a commit is in the commit queue until its
  // durability wait is over.
  WriteGate::Ticket ticket = std::move(txn.ticket);
  if (commit && !(txn.write->wrote() && IsReadOnly())) {
    return CommitAndAwait(std::move(txn.write));
  }
  absl::Status status;
  txn.write->Rollback();
  if (commit) {
    status = SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction,
                      absl::StrCat("tablet is read-only (not the primary); transaction ",
                                   txn.id.value(), " was rolled back"));
  }
  txn.write.reset();  // gives the writer back
  return status;
}

absl::StatusOr<std::shared_ptr<Engine::Txn>> Engine::Enter(TxnId txn) {
  absl::MutexLock lock(&mu_);
  auto it = txns_.find(txn.value());
  if (it == txns_.end()) {
    auto ended = ended_.find(txn.value());
    if (ended != ended_.end()) return ended->second;
    return TxnNotFound(txn);
  }
  ++it->second->active_calls;
  return it->second;
}

void Engine::Leave(const std::shared_ptr<Txn>& txn, bool ended, absl::Status why) {
  absl::MutexLock lock(&mu_);
  --txn->active_calls;
  txn->last_active = absl::Now();
  if (!ended) return;
  auto it = txns_.find(txn->id.value());
  if (it != txns_.end() && it->second == txn) {
    if (why.ok()) {
      txns_.erase(it);
    } else {
      Forget(txn->id, std::move(why));
    }
  }
}

void Engine::Forget(TxnId txn, absl::Status why) {
  txns_.erase(txn.value());
  ended_[txn.value()] = std::move(why);
  while (ended_.size() > options_.remembered_txns) ended_.erase(ended_.begin());
}

void Engine::ReaperLoop() {
  absl::Duration period =
      std::clamp(options_.idle_timeout / 4, absl::Milliseconds(1), absl::Seconds(1));
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), period)) return;
    }
    ReapIdle();
  }
}

void Engine::ReapIdle() {
  std::vector<std::shared_ptr<Txn>> victims;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = absl::Now();
    for (const auto& [id, txn] : txns_) {
      if (txn->active_calls == 0 && now - txn->last_active > options_.idle_timeout) {
        victims.push_back(txn);
      }
    }
    for (const auto& txn : victims) {
      Forget(txn->id,
             SqlError(absl::StatusCode::kAborted, sqlstate::kIdleInTransactionTimeout,
                      absl::StrCat("transaction ", txn->id.value(), " was rolled back after ",
                                   absl::FormatDuration(options_.idle_timeout), " idle")));
      ++txns_reaped_;
    }
  }
  RollBackTxns(victims);
  for (const auto& txn : victims) {
    if (options_.on_txn_reaped) options_.on_txn_reaped(txn->id);
  }
}

int Engine::AbortWriteTxns(const absl::Status& why) {
  std::vector<std::shared_ptr<Txn>> victims;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, txn] : txns_) {
      if (txn->mode == TxnMode::kReadWrite) victims.push_back(txn);
    }
    for (const auto& txn : victims) Forget(txn->id, why);
  }
  RollBackTxns(victims);
  return static_cast<int>(victims.size());
}

void Engine::RollBackTxns(const std::vector<std::shared_ptr<Txn>>& victims) {
  for (const auto& txn : victims) EndTxn(*txn, /*commit=*/false).IgnoreError();
}

}  // namespace shale::tablet::engine
