#include "topo/sqlite/sqlite_store.h"

#include <algorithm>

#include "base/status_macros.h"
#include "topo/sqlite/sqlite_schema.h"

namespace shale::topo::sqlite_internal {

absl::StatusOr<std::shared_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               const ConnOptions& options,
                                                               const SqliteTuning& tuning) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                   OpenTopologyDb(path, options.create_if_missing, DbRole::kMain,
                                  tuning.busy_timeout));
  return std::shared_ptr<SqliteStore>(new SqliteStore(path, options, tuning, std::move(db)));
}

SqliteStore::SqliteStore(std::string path, ConnOptions options, SqliteTuning tuning,
                         std::unique_ptr<SqliteDb> db)
    : path_(std::move(path)),
      options_(options),
      tuning_(tuning),
      trim_{tuning.keep_changes, tuning.trim_every},
      db_(std::move(db)) {}

namespace {

// Runs a cached statement without results (BEGIN, COMMIT: no re-parsing).
absl::Status RunCached(SqliteDb& db, absl::string_view sql) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
  return stmt.Run();
}

}  // namespace

absl::Status SqliteStore::Write(absl::FunctionRef<absl::Status(SqliteDb&)> fn) {
  absl::MutexLock l(&mu_);
  RETURN_IF_ERROR(RunCached(*db_, "BEGIN IMMEDIATE"));
  absl::Status st = fn(*db_);
  if (st.ok()) st = RunCached(*db_, "COMMIT");
  if (st.ok()) {
    ++local_commits_;
    return st;
  }
  // An I/O error may already have rolled the transaction back.
  if (!sqlite3_get_autocommit(db_->raw())) db_->Exec("ROLLBACK").IgnoreError();
  return st;
}

absl::Status SqliteStore::Read(absl::FunctionRef<absl::Status(SqliteDb&)> fn) {
  absl::MutexLock l(&mu_);
  RETURN_IF_ERROR(RunCached(*db_, "BEGIN"));
  absl::Status st = fn(*db_);
  if (!sqlite3_get_autocommit(db_->raw())) {
    absl::Status end = RunCached(*db_, "COMMIT");
    if (st.ok()) st = end;
  }
  return st;
}

absl::Status SqliteStore::ReadOne(absl::FunctionRef<absl::Status(SqliteDb&)> fn) {
  absl::MutexLock l(&mu_);
  return fn(*db_);
}

absl::StatusOr<SqliteStore::ChangeMark> SqliteStore::Mark() {
  absl::MutexLock l(&mu_);
  ChangeMark mark;
  ASSIGN_OR_RETURN(mark.data_version, DataVersion(*db_));
  mark.local_commits = local_commits_;
  return mark;
}

void SqliteStore::WaitForChange(const ChangeMark& mark, absl::Time until) {
  absl::MutexLock l(&mu_);
  auto local_commit = [this, &mark]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return local_commits_ != mark.local_commits;
  };
  for (;;) {
    absl::Time now = absl::Now();
    if (now >= until) return;
    absl::Time next = std::min(until, now + tuning_.poll_interval);
    if (mu_.AwaitWithDeadline(absl::Condition(&local_commit), next)) return;
    absl::StatusOr<int64_t> data_version = DataVersion(*db_);
    if (!data_version.ok() || *data_version != mark.data_version) return;
  }
}

}  // namespace shale::topo::sqlite_internal
