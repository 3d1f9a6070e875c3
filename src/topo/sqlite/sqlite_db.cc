#include "topo/sqlite/sqlite_db.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace shale::topo::sqlite_internal {

absl::Status SqliteStatus(int rc, absl::string_view what, sqlite3* db) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
  std::string reason = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string msg = absl::StrCat(what, ": ", reason);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat(msg, " (the topology file stayed locked by another writer)"));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
      return absl::UnavailableError(msg);
    case SQLITE_NOTADB:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::InternalError(msg);
  }
}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Stmt& Stmt::BindText(int i, absl::string_view text) {
  int rc = sqlite3_bind_text(stmt_, i, text.empty() ? "" : text.data(),
                             static_cast<int>(text.size()), SQLITE_STATIC);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::BindBlob(int i, absl::string_view bytes) {
  int rc = bytes.empty() ? sqlite3_bind_zeroblob(stmt_, i, 0)
                         : sqlite3_bind_blob(stmt_, i, bytes.data(),
                                             static_cast<int>(bytes.size()), SQLITE_STATIC);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::BindInt(int i, int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

absl::StatusOr<bool> Stmt::Step() {
  if (bind_rc_ != SQLITE_OK) return SqliteStatus(bind_rc_, "binding a topology query", db_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, absl::StrCat("topology query '", sqlite3_sql(stmt_), "'"), db_);
}

absl::Status Stmt::Run() {
  for (;;) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::Text(int col) const { return std::string(TextView(col)); }

absl::string_view Stmt::TextView(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return absl::string_view(static_cast<const char*>(p), static_cast<size_t>(n));
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
    if (sys_errno != 0) absl::StrAppend(&reason, " (", std::strerror(sys_errno), ")");
    sqlite3_close_v2(db);
    return absl::UnavailableError(
        absl::StrCat("cannot open topology file ", path, ": ", reason));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(path, db));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::StatusOr<Stmt> SqliteDb::Prepare(absl::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteStatus(rc, absl::StrCat("topology file ", path_, ": preparing '", sql, "'"),
                          db_);
    }
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Stmt(db_, it->second);
}

absl::Status SqliteDb::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return SqliteStatus(rc, absl::StrCat("topology file ", path_, ": '", sql, "'"), db_);
}

}  // namespace shale::topo::sqlite_internal
