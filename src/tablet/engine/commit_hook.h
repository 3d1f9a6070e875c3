#pragma once

// CommitHook: the one place where later work (the replication log, DESIGN §4)
// attaches to every write transaction the engine commits.
//
// Every write, autocommit or interactive, user or internal, runs in a WriteTxn
// (write_txn.h), and WriteTxn calls the hook at fixed points. The intended
// use: AfterBegin attaches a sqlite3session to the connection; OnWrite notes
// DDL text; BeforeCommit turns the session's changeset (and the DDL) into a
// row of _shale_log in the same SQLite transaction; AfterCommit wakes log
// streamers; AfterRollback drops the session.
//
// The engine does not own the hook: it is borrowed from EngineOptions and
// must outlive the Engine. Its methods are called on whichever thread holds
// the writer connection, one transaction at a time (never concurrently), with
// the authorizer switched to internal access, so the hook may read and write
// _shale_ tables through `db`. The hook must not BEGIN, COMMIT or ROLLBACK.

#include <sqlite3.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shale::tablet::engine {

class CommitHook {
 public:
  virtual ~CommitHook() = default;

  // Right after BEGIN IMMEDIATE. An error rolls the transaction back and is
  // returned from the call that began it.
  virtual absl::Status AfterBegin(sqlite3* db) { return absl::OkStatus(); }

  // Right before a DDL statement runs (e.g. to close a change session that
  // the statement would invalidate). Called whether or not it succeeds.
  virtual void BeforeDdl(sqlite3* db) {}

  // After each statement that may have written (not read-only) succeeded.
  // sql is the statement's text; is_ddl tells CREATE/DROP/ALTER apart.
  virtual void OnWrite(sqlite3* db, absl::string_view sql, bool is_ddl) {}

  // Right before COMMIT, inside the transaction. An error rolls the whole
  // transaction back (the data and whatever the hook wrote) and is returned
  // from Commit (or from the autocommit Execute).
  virtual absl::Status BeforeCommit(sqlite3* db) = 0;

  // After COMMIT succeeded; the transaction is durable (per synchronous=).
  virtual void AfterCommit(sqlite3* db) {}

  // After the transaction was rolled back, for any reason (including a
  // failed BeforeCommit).
  virtual void AfterRollback(sqlite3* db) {}

  // Right after AfterCommit, still holding the writer: a token naming what
  // the commit must wait for before it is acknowledged (0: nothing).
  virtual int64_t TakeCommitToken() { return 0; }

  // Called by the engine after the writer was given back, on the committing
  // thread, with the token of that commit (never 0). Other writes proceed
  // meanwhile, so many commits wait at once (group commit of the semi-sync
  // acknowledgements). An error is returned from the commit; the data is
  // committed locally all the same.
  virtual absl::Status AwaitDurable(int64_t token) { return absl::OkStatus(); }
};

}  // namespace shale::tablet::engine
