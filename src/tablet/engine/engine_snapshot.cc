// Engine::SnapshotTo: VACUUM INTO on a reader connection (clone, DESIGN §4).

#include "base/status_macros.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {

absl::Status Engine::SnapshotTo(const std::string& path) {
  // VACUUM INTO is not read-only for sqlite3_stmt_readonly, so Autocommit
  // would send it to the writer inside BEGIN IMMEDIATE, where VACUUM is
  // refused. On a reader it runs in its own read transaction: a consistent
  // snapshot while the writer goes on.
  ASSIGN_OR_RETURN(ConnectionPool::Lease reader, readers_->Acquire(options_.reader_wait));
  return reader->WithInternalAccess([&]() -> absl::Status {
    sqlite3* db = reader->raw();
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, db);
    sqlite3_bind_text64(stmt, 1, path.data(), path.size(), SQLITE_STATIC, SQLITE_UTF8);
    rc = sqlite3_step(stmt);
    absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(rc, db);
    sqlite3_finalize(stmt);
    return status;
  });
}

}  // namespace shale::tablet::engine
