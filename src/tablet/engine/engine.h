#pragma once

// Engine: the storage layer of a tablet (DESIGN §3 "Storage"): one SQLite
// database file, one writer connection and a pool of reader connections.
//
// - Autocommit statements: Execute / ExecuteStream. A statement SQLite calls
//   read-only (sqlite3_stmt_readonly) runs on a reader connection, so reads
//   run concurrently with each other and with a writer (WAL: a reader sees the
//   last committed data, never an open transaction's). Anything else runs on
//   the writer inside its own WriteTxn.
// - Interactive transactions: Begin -> Execute(txn, ...) -> Commit/Rollback. A
//   read-write transaction holds the writer until it ends; other writes wait
//   up to writer_wait. A transaction idle longer than idle_timeout is rolled
//   back by the reaper thread.
// - Every write commits through WriteTxn (write_txn.h), which calls the
//   CommitHook (commit_hook.h) right before COMMIT.
// - Read-only mode (SetReadOnly) refuses writes; internal statements
//   (ExecuteInternal, RunInternalWrite) bypass it and the _shale_ protection.
//
// Lifecycle: Open creates or opens the file; the destructor stops the reaper,
// rolls back open transactions and closes every connection. No call may be in
// flight when the Engine is destroyed. Owned by the tablet (unique_ptr).
// Thread-safe: every method may be called from any thread. Calls on the same
// transaction are serialised.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tablet/engine/commit_hook.h"
#include "tablet/engine/connection.h"
#include "tablet/engine/connection_pool.h"
#include "tablet/engine/group_sync.h"
#include "tablet/engine/txn_id.h"
#include "tablet/engine/value.h"
#include "tablet/engine/write_gate.h"
#include "tablet/engine/write_txn.h"

namespace shale::tablet::engine {

struct EngineOptions {
  // FULL: a commit survives power loss (the writer runs NORMAL and commits
  // are synced in groups after the writer is given back: group_sync.h).
  // NORMAL: the WAL is synced only at checkpoints.
  Synchronous synchronous = Synchronous::kFull;
  // Reader connections (>= 1): how many reads run at once.
  int reader_connections = 4;
  // How long a write waits for the writer connection while another
  // transaction holds it; then DeadlineExceeded (55P03).
  absl::Duration writer_wait = absl::Seconds(5);
  // How long a read waits for a free reader connection.
  absl::Duration reader_wait = absl::Seconds(5);
  // SQLite's busy handler: how long a connection waits for a lock held by
  // another process (e.g. a backup); then Aborted (40001).
  absl::Duration busy_timeout = absl::Seconds(5);
  // An interactive transaction idle longer than this is rolled back.
  absl::Duration idle_timeout = absl::Seconds(30);
  // PRAGMA foreign_keys on every connection.
  bool foreign_keys = true;
  // Called for every write transaction; borrowed, must outlive the Engine.
  CommitHook* commit_hook = nullptr;
  // User writes (autocommit writes, read-write transactions from Begin to
  // their end) hold a ticket of this gate; borrowed, may be null.
  WriteGate* write_gate = nullptr;
  // Called on the reaper thread, with no engine lock held, after it rolled
  // back an idle transaction.
  std::function<void(TxnId)> on_txn_reaped;
  // How many ended transactions are remembered, so that a late call on a
  // reaped one gets Aborted with the reason instead of NotFound.
  size_t remembered_txns = 10000;
  // When set: called for every user statement (Execute, ExecuteStream,
  // statements in transactions; not ExecuteAsDba, not internal ones) while
  // the engine is writable, on the compiled statement that runs (a write:
  // after the WriteGate, so one that waited at a freeze is checked after the
  // thaw). A non-OK status is the statement's error and nothing runs. (The
  // tablet's MoveTables denied tables: ServingPrimary::CheckTables.) Called
  // on the statement's thread, with a connection held: must not block.
  std::function<absl::Status(const StatementInfo&)> check_user_statement;
};

struct EngineStats {
  int64_t open_transactions = 0;
  int64_t transactions_begun = 0;
  int64_t transactions_reaped = 0;
  int64_t wal_syncs = 0;  // group syncs of the WAL (synchronous=FULL)
};

class Engine {
 public:
  // Opens (creating if missing) the database at path. Errors: InvalidArgument
  // for an empty path, ":memory:" or bad options; DataLoss (XX001) if the file
  // is not a SQLite database; FailedPrecondition if WAL cannot be enabled;
  // Internal (58030) if the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const std::string& path,
                                                      EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one autocommit statement and returns its whole result. binds fill
  // the positional parameters (?, ?NNN). Errors: InvalidArgument 42601 for
  // several statements in sql or an empty one; InvalidArgument 08P01 for a
  // wrong number of binds; FailedPrecondition 25006 for a write in read-only
  // mode; PermissionDenied 42501 for writes or DDL on _shale_ tables;
  // InvalidArgument 42P16 for a table without PRIMARY KEY; DeadlineExceeded
  // 55P03 when no connection frees up in time; the statement's own errors
  // (sqlite_errors.h); the commit hook's error.
  absl::StatusOr<ResultSet> Execute(absl::string_view sql, absl::Span<const Value> binds = {});

  // Like Execute, but each row goes to on_row as it is produced and is not
  // kept: the returned ResultSet has columns and counts, and no rows. A
  // non-OK status from on_row stops the statement (a write is rolled back).
  absl::StatusOr<ResultSet> ExecuteStream(absl::string_view sql, absl::Span<const Value> binds,
                                          RowCallback on_row);

  // Starts an interactive transaction. Errors: FailedPrecondition 25006 for
  // kReadWrite in read-only mode; DeadlineExceeded 55P03 when the writer (or
  // a reader) does not free up in time; Aborted 40001 if another process
  // holds the database's write lock. The transaction's statements run with
  // `access`: kUser for clients; kDba for the tablet's own reads on behalf
  // of resharding and VDiff (the same restrictions, but not subject to
  // options.check_user_statement, so they read denied tables too).
  absl::StatusOr<TxnId> Begin(TxnMode mode = TxnMode::kReadWrite, Access access = Access::kUser);

  // Runs one statement in txn. Errors as Execute, plus: NotFound for an
  // unknown (or committed / rolled back) txn; Aborted 25P03 for a txn the
  // reaper rolled back; Aborted 25P02 for a txn SQLite rolled back after an
  // error; FailedPrecondition 25006 for a write in a kReadOnly txn. A failed
  // statement is undone but the transaction stays open.
  absl::StatusOr<ResultSet> Execute(TxnId txn, absl::string_view sql,
                                    absl::Span<const Value> binds = {});
  absl::StatusOr<ResultSet> ExecuteStream(TxnId txn, absl::string_view sql,
                                          absl::Span<const Value> binds, RowCallback on_row);

  // Ends txn; it is gone afterwards whatever the result. Commit errors:
  // NotFound / Aborted as Execute; FailedPrecondition 25006 if the tablet
  // became read-only while txn wrote (txn is rolled back); the commit hook's
  // or SQLite's error (txn is rolled back). Rollback errors: NotFound / Aborted.
  absl::Status Commit(TxnId txn);
  absl::Status Rollback(TxnId txn);

  // Read-only mode: every user write statement and Begin(kReadWrite) fail
  // with FailedPrecondition 25006 "tablet is read-only (not the primary)".
  void SetReadOnly(bool read_only);
  bool IsReadOnly() const;

  // ExecuteFetchAsDba: like Execute (the same user rules, the WriteGate,
  // read-only mode), but not subject to options.check_user_statement.
  absl::StatusOr<ResultSet> ExecuteAsDba(absl::string_view sql, absl::Span<const Value> binds = {});

  // The engine's own statements: like Execute, without the read-only,
  // _shale_, PRAGMA and PRIMARY KEY checks. Writes still commit through
  // WriteTxn and the hook.
  absl::StatusOr<ResultSet> ExecuteInternal(absl::string_view sql,
                                            absl::Span<const Value> binds = {});

  // Runs fn in one write transaction (waiting up to writer_wait for the
  // writer) and commits if fn returns OK, else rolls back and returns fn's
  // error. fn runs statements with txn.Execute(sql, binds, Access::kInternal)
  // and must not Commit or Rollback itself. Ignores read-only mode.
  // with_hook false: the commit hook is not called (a replica applying a log
  // entry writes the log row itself).
  absl::Status RunInternalWrite(absl::FunctionRef<absl::Status(WriteTxn& txn)> fn,
                                bool with_hook = true);

  // Rolls back every open read-write transaction; later calls on them get
  // `why`. Returns how many were rolled back. (Planned migration: the ones
  // still open after the grace period, with Aborted / 40001.)
  int AbortWriteTxns(const absl::Status& why);

  // Runs fn with the writer connection held and no transaction open (e.g.
  // the backup API restoring a snapshot). Waits up to writer_wait.
  absl::Status WithWriter(absl::FunctionRef<absl::Status(sqlite3* db)> fn);

  // Writes a consistent snapshot of the database (the last committed data
  // when it starts) to path with VACUUM INTO, on a reader, so writes go on
  // meanwhile. path must not exist yet. Errors: DeadlineExceeded 55P03 when
  // no reader frees up in time; SQLite's (e.g. ResourceExhausted 53100 for a
  // full disk). (engine_snapshot.cc)
  absl::Status SnapshotTo(const std::string& path);

  EngineStats Stats() const;
  const std::string& path() const { return path_; }

 private:
  // One interactive transaction.
  struct Txn {
    Txn(TxnId id, TxnMode mode, Access access) : id(id), mode(mode), access(access) {}
    const TxnId id;
    const TxnMode mode;
    const Access access;
    // Engine::mu_ protects active_calls and last_active: the reaper skips a
    // transaction with a call in flight.
    int active_calls = 0;
    absl::Time last_active;
    // mu serialises the calls on this transaction and protects the rest.
    absl::Mutex mu;
    bool open ABSL_GUARDED_BY(mu) = true;
    std::unique_ptr<WriteTxn> write ABSL_GUARDED_BY(mu);  // kReadWrite
    ConnectionPool::Lease reader ABSL_GUARDED_BY(mu);     // kReadOnly
    WriteGate::Ticket ticket ABSL_GUARDED_BY(mu);         // kReadWrite, with a gate
  };

  Engine(std::string path, EngineOptions options, std::unique_ptr<ConnectionPool> writer,
         std::unique_ptr<ConnectionPool> readers);

  absl::StatusOr<ResultSet> Autocommit(absl::string_view sql, absl::Span<const Value> binds,
                                       RowCallback on_row, Access access);
  absl::Status ReadOnlyError() const;
  // options_.check_user_statement for a kUser statement on a writable engine.
  absl::Status CheckUserStatement(const Statement& statement) const;
  // Autocommit with the rows collected into the result.
  absl::StatusOr<ResultSet> Collect(absl::string_view sql, absl::Span<const Value> binds,
                                    Access access);

  // Looks txn up and marks a call in flight; Leave undoes that, and forgets
  // the transaction if the call ended it (remembering `why` unless OK).
  absl::StatusOr<std::shared_ptr<Txn>> Enter(TxnId txn);
  void Leave(const std::shared_ptr<Txn>& txn, bool ended, absl::Status why);
  absl::StatusOr<ResultSet> RunInTxn(Txn& txn, absl::string_view sql, absl::Span<const Value> binds,
                                     RowCallback on_row, bool* ended);
  absl::Status EndTxn(Txn& txn, bool commit);
  // Forgets txn, remembering why for later calls.
  void Forget(TxnId txn, absl::Status why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void ReaperLoop();
  void ReapIdle();
  // Forgets and rolls back the given transactions (engine lock not held).
  void RollBackTxns(const std::vector<std::shared_ptr<Txn>>& victims);
  // Commits txn (writer released afterwards), then waits for the hook's
  // durability token.
  absl::Status CommitAndAwait(std::unique_ptr<WriteTxn> txn);
  absl::StatusOr<WriteGate::Ticket> EnterGate();

  const std::string path_;
  const EngineOptions options_;
  const std::unique_ptr<ConnectionPool> writer_;
  const std::unique_ptr<ConnectionPool> readers_;
  // synchronous=FULL: the writer runs NORMAL and commits sync here, in groups.
  std::unique_ptr<GroupSync> group_sync_;

  std::atomic<bool> read_only_{false};

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_txn_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t txns_reaped_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<int64_t, std::shared_ptr<Txn>> txns_ ABSL_GUARDED_BY(mu_);
  // Ended transactions that a late call should hear about (oldest first).
  std::map<int64_t, absl::Status> ended_ ABSL_GUARDED_BY(mu_);
  std::thread reaper_;
};

}  // namespace shale::tablet::engine
