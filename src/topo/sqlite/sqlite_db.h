#pragma once

// Internal to topo/sqlite: a thin RAII layer over one sqlite3 connection.
//
// SqliteDb owns one connection and a cache of its prepared statements, so a
// hot query (Get, the poller's data_version check) is a bind + step, never a
// re-parse. Stmt borrows one cached statement for the length of a scope and
// resets it when it goes out of scope.
//
// Not thread-safe: one thread at a time uses a SqliteDb and its Stmts (the
// owner serialises access, see SqliteStore and SqliteWatcher).

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shale::topo::sqlite_internal {

// Maps an SQLite result code to a Shale status (DESIGN §8): BUSY, LOCKED,
// I/O errors, a full disk, a read-only or unopenable file -> Unavailable;
// NOTADB -> FailedPrecondition; anything else -> Internal. The message names
// `what` and SQLite's own explanation.
absl::Status SqliteStatus(int rc, absl::string_view what, sqlite3* db = nullptr);

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

  // Parameters are 1-based. Text and blob bindings borrow their bytes: they
  // must outlive the last Step().
  Stmt& BindText(int i, absl::string_view text);
  Stmt& BindBlob(int i, absl::string_view bytes);  // empty binds a zero-length blob, not NULL
  Stmt& BindInt(int i, int64_t v);
  Stmt& BindNull(int i);

  // true: a row is ready; false: done. Errors map through SqliteStatus.
  absl::StatusOr<bool> Step();
  // Steps to completion, ignoring rows.
  absl::Status Run();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  std::string Text(int col) const;  // text or blob bytes, "" for NULL
  absl::string_view TextView(int col) const;  // valid until the next Step

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
};

class SqliteDb {
 public:
  // Opens path with sqlite3_open_v2 flags (SQLITE_OPEN_NOMUTEX is added).
  // Unavailable naming path and SQLite's reason if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, int flags);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // A cached prepared statement for sql (compiled on first use). Internal if
  // the SQL does not compile; FailedPrecondition if the file is not a database.
  absl::StatusOr<Stmt> Prepare(absl::string_view sql);
  // Runs one or more statements without results (uncached).
  absl::Status Exec(const char* sql);

  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  SqliteDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  const std::string path_;
  sqlite3* const db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace shale::topo::sqlite_internal
