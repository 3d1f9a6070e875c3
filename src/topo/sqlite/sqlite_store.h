#pragma once

// Internal to topo/sqlite: the main connection of one SqliteConn.
//
// SqliteStore owns the connection that serves every read and write of its
// SqliteConn, and the settings they share. It is shared (shared_ptr) by the
// SqliteConn, its watcher and its lock handles, so a LockHandle may outlive
// the Conn that made it.
//
// Thread-safe: mu_ serialises all use of the connection. A write transaction
// may wait up to busy_timeout for another process's writer while holding mu_;
// nothing else ever blocks under it, and no user callback runs under it.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "topo/conn.h"
#include "topo/sqlite/sqlite_db.h"
#include "topo/sqlite/sqlite_nodes.h"
#include "topo/sqlite/sqlite_tuning.h"

namespace shale::topo::sqlite_internal {

class SqliteStore {
 public:
  // See OpenTopologyDb for the error codes.
  static absl::StatusOr<std::shared_ptr<SqliteStore>> Open(const std::string& path,
                                                           const ConnOptions& options,
                                                           const SqliteTuning& tuning);
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  const std::string& path() const { return path_; }
  const ConnOptions& options() const { return options_; }
  const SqliteTuning& tuning() const { return tuning_; }
  const TrimPolicy& trim() const { return trim_; }

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back if fn (or COMMIT)
  // fails and returns that error. Unavailable if the write lock stayed taken
  // past busy_timeout.
  absl::Status Write(absl::FunctionRef<absl::Status(SqliteDb&)> fn);
  // Runs fn inside one read transaction (a consistent snapshot).
  absl::Status Read(absl::FunctionRef<absl::Status(SqliteDb&)> fn);
  // Runs fn without a transaction: for a single statement, which is its own.
  absl::Status ReadOne(absl::FunctionRef<absl::Status(SqliteDb&)> fn);

  // A point in the stream of commits to the file, from any connection.
  struct ChangeMark {
    int64_t data_version = 0;
    uint64_t local_commits = 0;
  };
  absl::StatusOr<ChangeMark> Mark();
  // Returns once something was committed after mark (polling data_version
  // every tuning().poll_interval) or at `until`, whichever is first.
  void WaitForChange(const ChangeMark& mark, absl::Time until);

 private:
  SqliteStore(std::string path, ConnOptions options, SqliteTuning tuning,
              std::unique_ptr<SqliteDb> db);

  const std::string path_;
  const ConnOptions options_;
  const SqliteTuning tuning_;
  const TrimPolicy trim_;

  absl::Mutex mu_;  // protects the following
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
  // Commits made through db_ (data_version does not count a connection's own).
  uint64_t local_commits_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shale::topo::sqlite_internal
