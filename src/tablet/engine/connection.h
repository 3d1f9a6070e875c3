#pragma once

// Internal to tablet/engine: one SQLite connection and the statements compiled
// on it.
//
// Connection owns one sqlite3 handle, set up for its role (the writer, or a
// read-only reader), with an authorizer that enforces what user statements may
// do (see Access). Statement owns one compiled statement (exactly one: trailing
// statements are refused) and runs it to completion, feeding rows to a
// callback.
//
// Each connection keeps its own copy of the schema, which can lag behind a
// change made through another connection (a reader after the writer's ALTER
// TABLE). A compiled statement is recompiled by SQLite when it runs; a
// statement SQLite refuses to compile is compiled once more after the copy
// is found stale and reloaded (Prepare), so only the current schema's
// verdict reaches the caller.
//
// A Connection keeps its recently used read-only statements compiled (a
// small cache keyed by SQL text and access): a gateway's prepared statement
// arrives as the same text every time, and compiling it again cost about as
// much as running it. A Statement taken from the cache goes back on
// destruction; SQLite recompiles it by itself after a schema change.
//
// Not thread-safe: one thread at a time uses a Connection and its Statements;
// the engine hands connections out through ConnectionPool leases. A Statement
// borrows its Connection and must be destroyed before it.

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tablet/engine/value.h"

namespace shale::tablet::engine {

// Tables, indexes, views and triggers whose names start with this (in any
// case) are the engine's own; user statements cannot create, drop or write them.
inline constexpr absl::string_view kReservedPrefix = "_shale_";
bool IsReservedName(absl::string_view name);

// Who a statement runs for.
//  - kUser: a client statement. The authorizer refuses writes, DDL and index
//    or trigger DDL on reserved names (PermissionDenied, 42501); transaction
//    control, SAVEPOINT, ATTACH/DETACH (they would break the engine's
//    transaction and connection model); TEMP objects (connections are shared
//    between clients); and PRAGMAs other than read-only introspection.
//  - kDba: a statement of ExecuteFetchAsDba: the same restrictions as kUser
//    (every access but kInternal is a user's), but not subject to
//    EngineOptions::check_user_statement (MoveTables' denied tables).
//  - kInternal: the engine's own statements; everything is allowed.
enum class Access { kUser, kDba, kInternal };

// What compiling a statement revealed (collected by the authorizer).
struct StatementInfo {
  bool read_only = false;  // sqlite3_stmt_readonly()
  bool is_ddl = false;     // creates, drops or alters a schema object
  bool is_insert = false;  // an INSERT (or REPLACE) into a table, not from a trigger
  // Tables (and virtual tables) of the main schema that the statement creates.
  std::vector<std::string> created_tables;
  // Tables of the main schema that the statement reads or writes (triggers
  // and views included), as spelled in the schema or the statement; no
  // sqlite_ tables, no duplicates (case-insensitive).
  std::vector<std::string> tables;
};

enum class Synchronous { kOff, kNormal, kFull, kExtra };

struct ConnectionOptions {
  bool writer = false;  // false: opened read-only, never creates the file
  Synchronous synchronous = Synchronous::kFull;
  absl::Duration busy_timeout = absl::Seconds(5);
  bool foreign_keys = true;
};

class Connection;

class Statement {
 public:
  Statement() = default;
  Statement(Connection* conn, sqlite3_stmt* stmt, Access access, StatementInfo info)
      : conn_(conn), stmt_(stmt), access_(access), info_(std::move(info)) {}
  ~Statement();  // back to the connection's cache (read-only statements), else finalized
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  const StatementInfo& info() const { return info_; }
  Access access() const { return access_; }
  std::string sql() const;  // the statement's text

  // Binds binds to the statement's parameters by position (?NNN and plain ?
  // both count; a repeated ?1 is one parameter) and steps it to completion,
  // passing each row to on_row. binds must stay alive during the call.
  // Returns the columns, rows_affected and last_insert_rowid; rows stays
  // empty. Errors: InvalidArgument (08P01) when the number of binds differs
  // from the number of parameters; on_row's own status; SQLite errors mapped
  // by SqliteError (sqlite_errors.h), or the authorizer's refusal.
  absl::StatusOr<ResultSet> Run(absl::Span<const Value> binds, RowCallback on_row);

 private:
  absl::Status Bind(absl::Span<const Value> binds);

  friend class Connection;  // fills cache_key_ and takes back cached statements

  // Finalizes stmt_, or gives it back to the connection's cache.
  void Release();

  Connection* conn_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Access access_ = Access::kUser;
  StatementInfo info_;
  std::string cache_key_;  // the SQL text it was compiled from; empty: not cacheable
};

class Connection {
 public:
  // Opens path. A writer creates the file if missing and switches it to WAL;
  // every connection gets extended result codes, busy_timeout, foreign_keys
  // and the authorizer. Errors: as SqliteError (DataLoss for a file that is
  // not a database); FailedPrecondition if WAL cannot be enabled.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path,
                                                          const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Compiles exactly one statement. Errors: InvalidArgument (42601) for an
  // empty statement or SQL after the first statement (a trailing ";",
  // whitespace and comments are fine); the authorizer's refusal
  // (PermissionDenied 42501, InvalidArgument 0A000); SQLite's errors.
  absl::StatusOr<Statement> Prepare(absl::string_view sql, Access access);

  // Runs sql (one or more statements, no results, no binds) with internal
  // access, e.g. "BEGIN IMMEDIATE". Errors as SqliteError.
  absl::Status Exec(const char* sql);

  // Runs fn with internal access (for commit hooks, which run their own SQL on
  // raw()). Restores the previous access afterwards.
  template <typename Fn>
  auto WithInternalAccess(Fn&& fn) {
    AccessScope scope(this, Access::kInternal);
    return fn();
  }

  sqlite3* raw() const { return db_; }

 private:
  friend class Statement;

  // Sets the access the authorizer applies for its lifetime.
  class AccessScope {
   public:
    AccessScope(Connection* conn, Access access) : conn_(conn), saved_(conn->access_) {
      conn->access_ = access;
    }
    ~AccessScope() { conn_->access_ = saved_; }

   private:
    Connection* conn_;
    Access saved_;
  };

  // An idle compiled statement.
  struct Cached {
    std::string sql;
    Access access;
    sqlite3_stmt* stmt;
    StatementInfo info;
  };
  static constexpr size_t kStatementCacheSize = 32;

  explicit Connection(sqlite3* db) : db_(db) {}
  // sqlite3_prepare_v3 of sql with the authorizer collecting into info (and
  // denial_ cleared first). Returns SQLite's result code.
  int Compile(absl::string_view sql, StatementInfo* info, sqlite3_stmt** stmt, const char** tail);
  // Brings this connection's copy of the schema up to date with the database
  // (or with the open transaction's snapshot). Returns true if it was stale
  // and has been reloaded. Only on error paths: it runs a statement.
  bool ReloadStaleSchema();
  // Keeps a finished read-only statement for the next Prepare of sql.
  void CacheStatement(std::string sql, Access access, sqlite3_stmt* stmt, StatementInfo info);
  static int AuthorizerThunk(void* self, int action, const char* a1, const char* a2, const char* a3,
                             const char* a4);
  int Authorize(int action, const char* a1, const char* a2, const char* a3, const char* a4);
  int Deny(absl::Status why);
  // The status for a failed call that returned rc: the authorizer's refusal if
  // it refused during the call, else SqliteError.
  absl::Status ErrorFor(int rc);

  sqlite3* const db_;
  Access access_ = Access::kUser;
  StatementInfo* collecting_ = nullptr;  // the statement being compiled, if any
  absl::Status denial_;                  // why the authorizer last refused
  std::vector<Cached> cache_;            // least recently used first
};

}  // namespace shale::tablet::engine
