#include "topo/sqlite/sqlite_schema.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace shale::topo::sqlite_internal {
namespace {

// The on-disk schema; README.md documents it. Versions of nodes are seqs of
// `changes`, so they grow globally, like etcd's mod_revision.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES
  ('format', 'shale-topology'),
  ('schema_version', 1),
  ('trimmed_through', 0);
CREATE TABLE nodes(
  path TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  version INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_ms INTEGER
) WITHOUT ROWID;
CREATE TABLE changes(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL,
  kind INTEGER NOT NULL,
  value BLOB
);
)sql";

struct Identity {
  int64_t application_id = 0;
  int64_t objects = 0;  // rows of sqlite_master
};

absl::Status NotTopology(const std::string& path, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "topology file ", path, " is not a Shale topology file (", why, "); it was left untouched"));
}

absl::StatusOr<Identity> ReadIdentity(SqliteDb& db) {
  Identity id;
  ASSIGN_OR_RETURN(Stmt app, db.Prepare("PRAGMA application_id"));
  absl::StatusOr<bool> row = app.Step();
  if (!row.ok()) {
    if (absl::IsFailedPrecondition(row.status())) {
      return NotTopology(db.path(), "it is not an SQLite database");
    }
    return row.status();
  }
  id.application_id = *row ? app.Int(0) : 0;
  ASSIGN_OR_RETURN(Stmt count, db.Prepare("SELECT count(*) FROM sqlite_master"));
  ASSIGN_OR_RETURN(row, count.Step());
  id.objects = *row ? count.Int(0) : 0;
  return id;
}

absl::Status CheckSchemaVersion(SqliteDb& db) {
  absl::StatusOr<Stmt> stmt = db.Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!stmt.ok()) return NotTopology(db.path(), "its meta table is missing");
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return NotTopology(db.path(), "it has no schema_version");
  int64_t version = stmt->Int(0);
  if (version != kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrFormat("topology file %s has schema version %d; this build reads version %d",
                        db.path(), version, kSchemaVersion));
  }
  return absl::OkStatus();
}

// Runs a pragma that may return SQLITE_BUSY without consulting the busy
// handler (a journal-mode change while another process sets up the file),
// retrying until `busy_timeout` has passed.
absl::Status ExecRetryingBusy(SqliteDb& db, const char* sql, absl::Duration busy_timeout) {
  absl::Time deadline = absl::Now() + busy_timeout;
  for (;;) {
    absl::Status st = db.Exec(sql);
    if (st.ok() || !absl::IsUnavailable(st) || absl::Now() >= deadline) return st;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

// Creates the schema in an empty database. Several processes may race here:
// the IMMEDIATE transaction serialises them and the loser finds the schema.
absl::Status Initialize(SqliteDb& db, absl::Duration busy_timeout) {
  RETURN_IF_ERROR(ExecRetryingBusy(db, "PRAGMA journal_mode=WAL", busy_timeout));
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Identity id, ReadIdentity(db));
    if (id.application_id == kApplicationId) return absl::OkStatus();  // another process won
    if (id.objects != 0) return NotTopology(db.path(), "it already holds other tables");
    RETURN_IF_ERROR(db.Exec(kSchemaSql));
    return db.Exec(absl::StrCat("PRAGMA application_id=", kApplicationId).c_str());
  };
  absl::Status st = body();
  if (st.ok()) st = db.Exec("COMMIT");
  if (!st.ok() && !sqlite3_get_autocommit(db.raw())) db.Exec("ROLLBACK").IgnoreError();
  return st;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteDb>> OpenTopologyDb(const std::string& path,
                                                         bool create_if_missing, DbRole role,
                                                         absl::Duration busy_timeout) {
  bool may_create = create_if_missing && role == DbRole::kMain;
  if (!may_create) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        return absl::NotFoundError(absl::StrCat("topology file ", path, " does not exist"));
      }
      return absl::UnavailableError(
          absl::StrCat("cannot open topology file ", path, ": ", std::strerror(errno)));
    }
  }
  int flags = SQLITE_OPEN_READWRITE | (may_create ? SQLITE_OPEN_CREATE : 0);
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, flags));
  sqlite3_busy_timeout(db->raw(), static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));

  ASSIGN_OR_RETURN(Identity id, ReadIdentity(*db));
  if (id.application_id == 0 && id.objects == 0 && role == DbRole::kMain) {
    RETURN_IF_ERROR(Initialize(*db, busy_timeout));
  } else if (id.application_id != kApplicationId) {
    if (id.application_id != 0) {
      return NotTopology(path, absl::StrFormat("its application_id is 0x%08x", id.application_id));
    }
    return NotTopology(path, id.objects == 0 ? "it is empty" : "it holds other tables");
  }
  RETURN_IF_ERROR(CheckSchemaVersion(*db));

  if (role == DbRole::kMain) {
    // A no-op once the file is in WAL mode (the mode is persistent).
    RETURN_IF_ERROR(ExecRetryingBusy(*db, "PRAGMA journal_mode=WAL", busy_timeout));
  } else {
    RETURN_IF_ERROR(db->Exec("PRAGMA query_only=1"));
  }
  // synchronous=NORMAL in WAL mode: every commit is durable against the crash
  // of any process (kill -9 included), which is the failure that matters for
  // processes sharing this file; only an OS crash or power loss can roll back
  // the last few commits (never corrupt the file), and that restarts every
  // process on the machine, which then re-read and re-register their state.
  // FULL would add an fsync to every topology write.
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL"));
  return db;
}

}  // namespace shale::topo::sqlite_internal
