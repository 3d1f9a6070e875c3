#pragma once

// WriteTxn: one write transaction on the writer connection, and the single
// path through which every write of the engine commits.
//
// Lifecycle: Begin (takes the writer lease, BEGIN IMMEDIATE, hook AfterBegin)
// -> any number of Prepare/Run or Execute -> Commit or Rollback. Destroying an
// open WriteTxn rolls it back. The writer lease is released when the WriteTxn
// is destroyed, so other writers wait exactly as long as it lives.
//
// Checks on user statements (Access::kUser, kDba) that run here: a CREATE TABLE
// whose table has no PRIMARY KEY is undone (InvalidArgument, SQLSTATE 42P16),
// and DDL may not leave a new _shale_ name behind (ALTER TABLE ... RENAME TO
// _shale_x; PermissionDenied 42501). Both run the statement inside a SAVEPOINT
// so only that statement is undone.
//
// Not thread-safe: owned and used by one thread at a time (the engine
// serialises calls per transaction).

#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tablet/engine/commit_hook.h"
#include "tablet/engine/connection.h"
#include "tablet/engine/connection_pool.h"
#include "tablet/engine/value.h"

namespace shale::tablet::engine {

class WriteTxn {
 public:
  // Starts a transaction on the leased writer. hook may be null; borrowed,
  // must outlive the WriteTxn. Errors: Aborted (40001) if another process
  // holds the database's write lock past busy_timeout; the hook's AfterBegin
  // error (the transaction is rolled back).
  static absl::StatusOr<std::unique_ptr<WriteTxn>> Begin(ConnectionPool::Lease writer,
                                                         CommitHook* hook);
  ~WriteTxn();
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;

  // Compiles one statement on the writer (see Connection::Prepare).
  // FailedPrecondition if the transaction is no longer open.
  absl::StatusOr<Statement> Prepare(absl::string_view sql, Access access);

  // Runs a statement from Prepare, with the checks above for user DDL.
  // Errors: the statement's (sqlite_errors.h); InvalidArgument 42P16 for a
  // table without PRIMARY KEY; FailedPrecondition if not open. A failed
  // statement is undone; if SQLite rolled the whole transaction back (disk
  // full, I/O error), open() turns false and AfterRollback has run.
  absl::StatusOr<ResultSet> Run(Statement& statement, absl::Span<const Value> binds,
                                RowCallback on_row);

  // Prepare + Run, collecting the rows.
  absl::StatusOr<ResultSet> Execute(absl::string_view sql, absl::Span<const Value> binds,
                                    Access access);

  // Calls the hook's BeforeCommit, then COMMIT. On any error the transaction
  // is rolled back and the error returned. FailedPrecondition if not open.
  absl::Status Commit();

  // Rolls back if still open (no-op otherwise).
  void Rollback();

  bool open() const { return open_; }
  // After a successful Commit: the hook's token (CommitHook::TakeCommitToken).
  int64_t commit_token() const { return commit_token_; }
  CommitHook* hook() const { return hook_; }
  // Runs fn with the writer's authorizer in internal mode (for raw sqlite3
  // calls on db(), e.g. applying a changeset).
  template <typename Fn>
  auto WithInternalAccess(Fn&& fn) {
    return writer_->WithInternalAccess(std::forward<Fn>(fn));
  }
  // Whether a statement that may write (not read-only) has succeeded.
  bool wrote() const { return wrote_; }
  sqlite3* db() const { return writer_->raw(); }

 private:
  WriteTxn(ConnectionPool::Lease writer, CommitHook* hook)
      : writer_(std::move(writer)), hook_(hook) {}
  absl::StatusOr<ResultSet> RunChecked(Statement& statement, absl::Span<const Value> binds,
                                       RowCallback on_row);
  absl::Status CheckDdl(const StatementInfo& info, const std::string& reserved_before);
  absl::StatusOr<std::string> ReservedNames();
  absl::Status NotOpen() const;
  void MarkRolledBack();

  ConnectionPool::Lease writer_;
  CommitHook* const hook_;
  bool open_ = false;
  bool wrote_ = false;
  int64_t commit_token_ = 0;
};

}  // namespace shale::tablet::engine
