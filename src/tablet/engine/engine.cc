// Engine: opening, autocommit statements, read-only mode and the internal
// path. Interactive transactions and the reaper are in engine_txn.cc.

#include "tablet/engine/engine.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const std::string& path,
                                                     EngineOptions options) {
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError(
        absl::StrCat("engine needs a database file path, got \"", path, "\""));
  }
  if (options.reader_connections < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("reader_connections must be at least 1, got ", options.reader_connections));
  }
  if (options.idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("idle_timeout must be positive");
  }
  ConnectionOptions conn_options;
  conn_options.writer = true;
  // FULL durability comes from GroupSync: the writer itself runs NORMAL.
  const bool group_sync = options.synchronous == Synchronous::kFull;
  conn_options.synchronous = group_sync ? Synchronous::kNormal : options.synchronous;
  conn_options.busy_timeout = options.busy_timeout;
  conn_options.foreign_keys = options.foreign_keys;
  // The writer first: it creates the file and switches it to WAL, which the
  // read-only connections need.
  std::vector<std::unique_ptr<Connection>> writer;
  ASSIGN_OR_RETURN(writer.emplace_back(), Connection::Open(path, conn_options));
  conn_options.writer = false;
  conn_options.synchronous = options.synchronous;
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.reader_connections; ++i) {
    ASSIGN_OR_RETURN(readers.emplace_back(), Connection::Open(path, conn_options));
  }
  std::unique_ptr<Engine> engine(new Engine(
      path, std::move(options), std::make_unique<ConnectionPool>("writer", std::move(writer)),
      std::make_unique<ConnectionPool>("reader", std::move(readers))));
  if (group_sync) engine->group_sync_ = std::make_unique<GroupSync>(path + "-wal");
  engine->reaper_ = std::thread([e = engine.get()] { e->ReaperLoop(); });
  return engine;
}

Engine::Engine(std::string path, EngineOptions options, std::unique_ptr<ConnectionPool> writer,
               std::unique_ptr<ConnectionPool> readers)
    : path_(std::move(path)),
      options_(std::move(options)),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {}

Engine::~Engine() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (reaper_.joinable()) reaper_.join();
  std::vector<std::shared_ptr<Txn>> open;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, txn] : txns_) open.push_back(txn);
    txns_.clear();
  }
  for (auto& txn : open) EndTxn(*txn, /*commit=*/false).IgnoreError();
  // The pools close their connections as members are destroyed: readers
  // first, so the writer is the last connection and checkpoints the WAL.
}

absl::Status Engine::ReadOnlyError() const {
  return SqlError(absl::StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction,
                  "tablet is read-only (not the primary)");
}

void Engine::SetReadOnly(bool read_only) { read_only_.store(read_only); }

bool Engine::IsReadOnly() const { return read_only_.load(); }

absl::Status Engine::CheckUserStatement(const Statement& statement) const {
  if (statement.access() != Access::kUser || !options_.check_user_statement || IsReadOnly()) {
    return absl::OkStatus();
  }
  return options_.check_user_statement(statement.info());
}

absl::StatusOr<ResultSet> Engine::Autocommit(absl::string_view sql, absl::Span<const Value> binds,
                                             RowCallback on_row, Access access) {
  {
    // Compile on a reader to learn whether the statement writes.
    ASSIGN_OR_RETURN(ConnectionPool::Lease reader, readers_->Acquire(options_.reader_wait));
    ASSIGN_OR_RETURN(Statement statement, reader->Prepare(sql, access));
    if (statement.info().read_only) {
      RETURN_IF_ERROR(CheckUserStatement(statement));
      return statement.Run(binds, on_row);
    }
  }
  WriteGate::Ticket ticket;
  if (access != Access::kInternal) {
    // The gate first: while a migration freezes writes they wait there, even
    // once the tablet turned read-only, and learn the outcome.
    ASSIGN_OR_RETURN(ticket, EnterGate());
    if (IsReadOnly()) return ReadOnlyError();
  }
  ASSIGN_OR_RETURN(ConnectionPool::Lease writer, writer_->Acquire(options_.writer_wait));
  ASSIGN_OR_RETURN(std::unique_ptr<WriteTxn> txn,
                   WriteTxn::Begin(std::move(writer), options_.commit_hook));
  absl::StatusOr<ResultSet> result;
  {
    // The statement is finalised before txn ends and gives the writer back.
    ASSIGN_OR_RETURN(Statement statement, txn->Prepare(sql, access));
    // After the gate: a write that waited at a freeze meets the thaw's verdict.
    RETURN_IF_ERROR(CheckUserStatement(statement));
    result = txn->Run(statement, binds, on_row);
  }
  if (!result.ok()) return result.status();  // ~WriteTxn rolls back
  RETURN_IF_ERROR(CommitAndAwait(std::move(txn)));
  return result;
}

absl::StatusOr<WriteGate::Ticket> Engine::EnterGate() {
  if (options_.write_gate == nullptr) return WriteGate::Ticket();
  return options_.write_gate->Enter(options_.writer_wait * 6);
}

absl::Status Engine::CommitAndAwait(std::unique_ptr<WriteTxn> txn) {
  RETURN_IF_ERROR(txn->Commit());
  const int64_t token = txn->commit_token();
  CommitHook* hook = txn->hook();
  const int64_t ticket = group_sync_ != nullptr ? group_sync_->Committed() : 0;
  txn.reset();  // gives the writer back before waiting
  if (group_sync_ != nullptr) RETURN_IF_ERROR(group_sync_->SyncThrough(ticket));
  if (token != 0 && hook != nullptr) return hook->AwaitDurable(token);
  return absl::OkStatus();
}

absl::Status Engine::WithWriter(absl::FunctionRef<absl::Status(sqlite3* db)> fn) {
  ASSIGN_OR_RETURN(ConnectionPool::Lease writer, writer_->Acquire(options_.writer_wait));
  return writer->WithInternalAccess([&] { return fn(writer->raw()); });
}

absl::StatusOr<ResultSet> Engine::Execute(absl::string_view sql, absl::Span<const Value> binds) {
  return Collect(sql, binds, Access::kUser);
}

absl::StatusOr<ResultSet> Engine::ExecuteStream(absl::string_view sql,
                                                absl::Span<const Value> binds, RowCallback on_row) {
  return Autocommit(sql, binds, on_row, Access::kUser);
}

absl::StatusOr<ResultSet> Engine::ExecuteAsDba(absl::string_view sql,
                                               absl::Span<const Value> binds) {
  return Collect(sql, binds, Access::kDba);
}

absl::StatusOr<ResultSet> Engine::ExecuteInternal(absl::string_view sql,
                                                  absl::Span<const Value> binds) {
  return Collect(sql, binds, Access::kInternal);
}

absl::StatusOr<ResultSet> Engine::Collect(absl::string_view sql, absl::Span<const Value> binds,
                                          Access access) {
  std::vector<Row> rows;
  ASSIGN_OR_RETURN(ResultSet rs, Autocommit(sql, binds, RowCollector(&rows), access));
  rs.rows = std::move(rows);
  return rs;
}

absl::Status Engine::RunInternalWrite(absl::FunctionRef<absl::Status(WriteTxn& txn)> fn,
                                      bool with_hook) {
  ASSIGN_OR_RETURN(ConnectionPool::Lease writer, writer_->Acquire(options_.writer_wait));
  ASSIGN_OR_RETURN(std::unique_ptr<WriteTxn> txn,
                   WriteTxn::Begin(std::move(writer), with_hook ? options_.commit_hook : nullptr));
  absl::Status status = fn(*txn);
  if (!status.ok()) return status;  // ~WriteTxn rolls back
  return CommitAndAwait(std::move(txn));
}

EngineStats Engine::Stats() const {
  absl::MutexLock lock(&mu_);
  EngineStats stats;
  stats.open_transactions = static_cast<int64_t>(txns_.size());
  stats.transactions_begun = next_txn_id_ - 1;
  stats.transactions_reaped = txns_reaped_;
  stats.wal_syncs = group_sync_ != nullptr ? group_sync_->syncs() : 0;
  return stats;
}

}  // namespace shale::tablet::engine
