#include "tablet/engine/connection.h"

#include <cctype>
#include <climits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::engine {
namespace {

// True if [p, end) holds nothing but whitespace, semicolons and comments.
bool OnlyTrivia(const char* p, const char* end) {
  while (p < end) {
    if (std::isspace(static_cast<unsigned char>(*p)) || *p == ';') {
      ++p;
    } else if (*p == '-' && p + 1 < end && p[1] == '-') {
      while (p < end && *p != '\n') ++p;
    } else if (*p == '/' && p + 1 < end && p[1] == '*') {
      p += 2;
      while (p + 1 < end && !(p[0] == '*' && p[1] == '/')) ++p;
      p = p + 1 < end ? p + 2 : end;
    } else {
      return false;
    }
  }
  return true;
}

absl::string_view Str(const char* s) { return s == nullptr ? absl::string_view() : s; }

// Same code and payloads, message prefixed with context.
absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

const char* SynchronousName(Synchronous s) {
  switch (s) {
    case Synchronous::kOff:
      return "OFF";
    case Synchronous::kNormal:
      return "NORMAL";
    case Synchronous::kFull:
      return "FULL";
    case Synchronous::kExtra:
      return "EXTRA";
  }
  return "FULL";
}

}  // namespace

bool IsReservedName(absl::string_view name) {
  return absl::StartsWithIgnoreCase(name, kReservedPrefix);
}

// ---- Statement ----

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ == nullptr) return;
  if (!cache_key_.empty() && info_.read_only && !info_.is_ddl) {
    conn_->CacheStatement(std::move(cache_key_), access_, stmt_, std::move(info_));
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
}

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_),
      stmt_(other.stmt_),
      access_(other.access_),
      info_(std::move(other.info_)),
      cache_key_(std::move(other.cache_key_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    conn_ = other.conn_;
    stmt_ = other.stmt_;
    access_ = other.access_;
    info_ = std::move(other.info_);
    cache_key_ = std::move(other.cache_key_);
    other.stmt_ = nullptr;
  }
  return *this;
}

std::string Statement::sql() const {
  return stmt_ == nullptr ? std::string() : std::string(Str(sqlite3_sql(stmt_)));
}

absl::Status Statement::Bind(absl::Span<const Value> binds) {
  int want = sqlite3_bind_parameter_count(stmt_);
  if (static_cast<size_t>(want) != binds.size()) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kProtocolViolation,
                    absl::StrCat("statement has ", want, " parameter(s) but ", binds.size(),
                                 " value(s) were bound"));
  }
  for (int i = 0; i < want; ++i) {
    const Value& v = binds[i];
    int rc = SQLITE_OK;
    switch (v.type()) {
      case Value::Type::kNull:
        rc = sqlite3_bind_null(stmt_, i + 1);
        break;
      case Value::Type::kInt64:
        rc = sqlite3_bind_int64(stmt_, i + 1, v.int64());
        break;
      case Value::Type::kFloat64:
        rc = sqlite3_bind_double(stmt_, i + 1, v.float64());
        break;
      case Value::Type::kText:
        rc = sqlite3_bind_text64(stmt_, i + 1, v.text().data(), v.text().size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
        break;
      case Value::Type::kBlob:
        // A zero-length blob must not become NULL (bind_blob with no bytes would).
        rc = v.blob().empty() ? sqlite3_bind_zeroblob(stmt_, i + 1, 0)
                              : sqlite3_bind_blob64(stmt_, i + 1, v.blob().data(), v.blob().size(),
                                                    SQLITE_STATIC);
        break;
    }
    if (rc != SQLITE_OK) return conn_->ErrorFor(rc);
  }
  return absl::OkStatus();
}

namespace {

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return Value(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
    case SQLITE_FLOAT:
      return Value(sqlite3_column_double(stmt, i));
    case SQLITE_TEXT: {
      const char* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      int n = sqlite3_column_bytes(stmt, i);
      return Value::Text(p == nullptr ? absl::string_view() : absl::string_view(p, n));
    }
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      int n = sqlite3_column_bytes(stmt, i);
      return Value::Blob(p == nullptr ? absl::string_view() : absl::string_view(p, n));
    }
    default:
      return Value();
  }
}

}  // namespace

absl::StatusOr<ResultSet> Statement::Run(absl::Span<const Value> binds, RowCallback on_row) {
  Connection::AccessScope scope(conn_, access_);
  conn_->denial_ = absl::OkStatus();
  sqlite3* db = conn_->db_;
  absl::Status status = Bind(binds);
  ResultSet rs;
  if (status.ok()) {
    int64_t changes_before = sqlite3_total_changes64(db);
    Row row;
    int n = 0;
    bool first = true;
    while (status.ok()) {
      int rc = sqlite3_step(stmt_);
      if (first) {
        // The columns once stepped: a statement kept compiled from before a
        // schema change (ALTER TABLE ... ADD COLUMN) is recompiled by its
        // first step and may have more of them.
        first = false;
        n = sqlite3_column_count(stmt_);
        rs.columns.reserve(n);
        for (int i = 0; i < n; ++i) {
          rs.columns.push_back(Column{std::string(Str(sqlite3_column_name(stmt_, i))),
                                      std::string(Str(sqlite3_column_decltype(stmt_, i)))});
        }
        row.reserve(n);
      }
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        status = conn_->ErrorFor(rc);
        break;
      }
      row.clear();
      for (int i = 0; i < n; ++i) row.push_back(ColumnValue(stmt_, i));
      status = on_row(rs.columns, row);
    }
    if (status.ok()) {
      if (sqlite3_total_changes64(db) != changes_before) rs.rows_affected = sqlite3_changes64(db);
      if (info_.is_insert && rs.rows_affected > 0) {
        rs.last_insert_rowid = sqlite3_last_insert_rowid(db);
      }
    }
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (!status.ok()) return status;
  return rs;
}

// ---- Connection ----

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                             const ConnectionOptions& options) {
  int flags = options.writer ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY;
  flags |= SQLITE_OPEN_NOMUTEX;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = Annotate(SqliteError(rc, db), absl::StrCat("open ", path));
    sqlite3_close_v2(db);
    return status;
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, static_cast<int*>(nullptr));

  if (options.writer) {
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    std::string mode =
        rc == SQLITE_ROW
            ? std::string(Str(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))))
            : "";
    absl::Status status = rc == SQLITE_ROW ? absl::OkStatus() : SqliteError(rc, db);
    sqlite3_finalize(stmt);
    if (!status.ok()) return Annotate(status, absl::StrCat("open ", path));
    if (absl::AsciiStrToLower(mode) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("open ", path, ": cannot switch to WAL mode (journal_mode is ", mode, ")"));
    }
  }
  std::string pragmas = absl::StrCat("PRAGMA synchronous=", SynchronousName(options.synchronous),
                                     "; PRAGMA foreign_keys=", options.foreign_keys ? "ON" : "OFF");
  absl::Status status = conn->Exec(pragmas.c_str());
  if (!status.ok()) return Annotate(status, absl::StrCat("open ", path));
  sqlite3_set_authorizer(db, &Connection::AuthorizerThunk, conn.get());
  return conn;
}

Connection::~Connection() {
  for (Cached& c : cache_) sqlite3_finalize(c.stmt);
  sqlite3_close_v2(db_);
}

void Connection::CacheStatement(std::string sql, Access access, sqlite3_stmt* stmt,
                                StatementInfo info) {
  sqlite3_reset(stmt);  // no read transaction stays open
  sqlite3_clear_bindings(stmt);
  if (cache_.size() >= kStatementCacheSize) {
    sqlite3_finalize(cache_.front().stmt);
    cache_.erase(cache_.begin());
  }
  cache_.push_back(Cached{std::move(sql), access, stmt, std::move(info)});
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql, Access access) {
  if (sql.size() > static_cast<size_t>(INT_MAX)) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kProgramLimitExceeded,
                    "statement text is too long");
  }
  for (auto it = cache_.rbegin(); it != cache_.rend(); ++it) {
    if (it->access == access && it->sql == sql) {
      Statement statement(this, it->stmt, access, std::move(it->info));
      statement.cache_key_ = std::move(it->sql);
      cache_.erase(std::next(it).base());
      return statement;
    }
  }
  AccessScope scope(this, access);
  StatementInfo info;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = Compile(sql, &info, &stmt, &tail);
  // This connection's copy of the schema may predate a change made through
  // another connection (a reader after the writer's ALTER TABLE). SQLite
  // reloads it by itself only for some errors ("no such table", "no such
  // column"), not for others ("table t has 2 columns but 3 values were
  // supplied"). So a refusal by SQLite (not by the authorizer) is retried
  // once, if the schema turns out to have been stale.
  if (rc != SQLITE_OK) {
    absl::Status error = ErrorFor(rc);  // before ReloadStaleSchema replaces SQLite's message
    if ((rc & 0xff) != SQLITE_ERROR || !denial_.ok() || !ReloadStaleSchema()) return error;
    info = StatementInfo();
    rc = Compile(sql, &info, &stmt, &tail);
    if (rc != SQLITE_OK) return ErrorFor(rc);
  }
  info.read_only = stmt != nullptr && sqlite3_stmt_readonly(stmt) != 0;
  Statement statement(this, stmt, access, std::move(info));
  if (stmt == nullptr) {
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kSyntaxError,
                    "empty statement: no SQL to run");
  }
  const char* end = sql.data() + sql.size();
  if (tail != nullptr && !OnlyTrivia(tail, end)) {
    absl::string_view rest(tail, end - tail);
    return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kSyntaxError,
                    absl::StrCat("only one statement per call: found more SQL after the first "
                                 "statement: \"",
                                 rest.substr(0, 40), rest.size() > 40 ? "...\"" : "\""));
  }
  if (statement.info_.read_only) statement.cache_key_ = std::string(sql);
  return statement;
}

int Connection::Compile(absl::string_view sql, StatementInfo* info, sqlite3_stmt** stmt,
                        const char** tail) {
  collecting_ = info;
  denial_ = absl::OkStatus();
  *stmt = nullptr;
  *tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, stmt, tail);
  collecting_ = nullptr;
  return rc;
}

bool Connection::ReloadStaleSchema() {
  // Stepping a statement that reads the schema table compares the schema
  // cookie in the database with this connection's copy. If they differ,
  // SQLite drops its copy and recompiles the statement against the schema
  // it reloads, which the statement's reprepare count shows. Inside a
  // transaction the comparison is with that transaction's snapshot, so a
  // read transaction keeps the schema it began with.
  AccessScope scope(this, Access::kInternal);
  const absl::Status denial = denial_;
  sqlite3_stmt* stmt = nullptr;
  bool reloaded = false;
  if (sqlite3_prepare_v3(db_, "SELECT 1 FROM sqlite_schema LIMIT 1", -1, 0, &stmt, nullptr) ==
      SQLITE_OK) {
    const int rc = sqlite3_step(stmt);
    reloaded = (rc == SQLITE_ROW || rc == SQLITE_DONE) &&
               sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0) > 0;
  }
  sqlite3_finalize(stmt);
  denial_ = denial;
  return reloaded;
}

absl::Status Connection::Exec(const char* sql) {
  AccessScope scope(this, Access::kInternal);
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, db_);
  return absl::OkStatus();
}

absl::Status Connection::ErrorFor(int rc) {
  // A refusal can surface as SQLITE_AUTH or, when SQLite retried the
  // compilation after a schema change (TEMP objects), as SQLITE_SCHEMA.
  if (!denial_.ok()) return denial_;
  return SqliteError(rc, db_);
}

int Connection::Deny(absl::Status why) {
  if (denial_.ok()) denial_ = std::move(why);
  return SQLITE_DENY;
}

int Connection::AuthorizerThunk(void* self, int action, const char* a1, const char* a2,
                                const char* a3, const char* a4) {
  return static_cast<Connection*>(self)->Authorize(action, a1, a2, a3, a4);
}

}  // namespace shale::tablet::engine
