#include "topo/sqlite/sqlite_nodes.h"

#include "base/status_macros.h"
#include "topo/sqlite/sqlite_schema.h"

namespace shale::topo::sqlite_internal {
namespace {

// The exclusive upper bound of the paths that start with prefix (which ends
// with '/'): the same bytes with the final '/' replaced by '0', the next byte.
std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

// Appends a change row and trims old ones now and then; returns its seq.
absl::StatusOr<int64_t> AppendChange(SqliteDb& db, absl::string_view path, int kind,
                                     std::optional<absl::string_view> value,
                                     const TrimPolicy& trim) {
  {
    ASSIGN_OR_RETURN(Stmt insert,
                     db.Prepare("INSERT INTO changes(path, kind, value) VALUES(?, ?, ?)"));
    insert.BindText(1, path).BindInt(2, kind);
    if (value.has_value()) {
      insert.BindBlob(3, *value);
    } else {
      insert.BindNull(3);
    }
    RETURN_IF_ERROR(insert.Run());
  }
  int64_t seq = sqlite3_last_insert_rowid(db.raw());
  if (trim.every > 0 && seq % trim.every == 0 && seq > trim.keep) {
    int64_t through = seq - trim.keep;
    ASSIGN_OR_RETURN(Stmt del, db.Prepare("DELETE FROM changes WHERE seq <= ?"));
    RETURN_IF_ERROR(del.BindInt(1, through).Run());
    ASSIGN_OR_RETURN(Stmt mark,
                     db.Prepare("UPDATE meta SET value = max(value, ?) WHERE key = 'trimmed_through'"));
    RETURN_IF_ERROR(mark.BindInt(1, through).Run());
  }
  return seq;
}

}  // namespace

absl::StatusOr<std::optional<NodeRow>> ReadNode(SqliteDb& db, absl::string_view path) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT value, version, lease_owner, lease_expires_ms "
                                         "FROM nodes WHERE path = ?"));
  ASSIGN_OR_RETURN(bool row, stmt.BindText(1, path).Step());
  if (!row) return std::optional<NodeRow>();
  NodeRow node;
  node.value = stmt.Text(0);
  node.version = stmt.Int(1);
  if (!stmt.IsNull(2)) node.lease_owner = stmt.Text(2);
  node.lease_expires_ms = stmt.Int(3);
  return std::optional<NodeRow>(std::move(node));
}

absl::StatusOr<Version> WriteNode(SqliteDb& db, absl::string_view path, absl::string_view value,
                                  const TrimPolicy& trim) {
  ASSIGN_OR_RETURN(int64_t seq, AppendChange(db, path, kChangeWritten, value, trim));
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(
                                  "INSERT INTO nodes(path, value, version) VALUES(?, ?, ?) "
                                  "ON CONFLICT(path) DO UPDATE SET value = excluded.value, "
                                  "version = excluded.version"));
  RETURN_IF_ERROR(stmt.BindText(1, path).BindBlob(2, value).BindInt(3, seq).Run());
  return seq;
}

absl::StatusOr<Version> WriteLeasedNode(SqliteDb& db, absl::string_view path,
                                        absl::string_view value, absl::string_view owner,
                                        int64_t expires_ms, const TrimPolicy& trim) {
  ASSIGN_OR_RETURN(int64_t seq, AppendChange(db, path, kChangeWritten, value, trim));
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("INSERT INTO nodes(path, value, version, lease_owner, "
                                         "lease_expires_ms) VALUES(?, ?, ?, ?, ?)"));
  stmt.BindText(1, path).BindBlob(2, value).BindInt(3, seq).BindText(4, owner).BindInt(5,
                                                                                     expires_ms);
  RETURN_IF_ERROR(stmt.Run());
  return seq;
}

absl::Status EraseNode(SqliteDb& db, absl::string_view path, const TrimPolicy& trim) {
  RETURN_IF_ERROR(AppendChange(db, path, kChangeDeleted, std::nullopt, trim).status());
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("DELETE FROM nodes WHERE path = ?"));
  return stmt.BindText(1, path).Run();
}

absl::StatusOr<bool> RenewLease(SqliteDb& db, absl::string_view path, absl::string_view owner,
                                int64_t expires_ms) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("UPDATE nodes SET lease_expires_ms = ? "
                                         "WHERE path = ? AND lease_owner = ?"));
  RETURN_IF_ERROR(stmt.BindInt(1, expires_ms).BindText(2, path).BindText(3, owner).Run());
  return sqlite3_changes(db.raw()) == 1;
}

absl::Status ScanBelow(SqliteDb& db, absl::string_view prefix,
                       absl::FunctionRef<void(absl::string_view, absl::string_view, Version)> fn) {
  std::string end = PrefixEnd(prefix);
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT path, value, version FROM nodes "
                                         "WHERE path > ? AND path < ? ORDER BY path"));
  stmt.BindText(1, prefix).BindText(2, end);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::OkStatus();
    fn(stmt.TextView(0), stmt.TextView(1), stmt.Int(2));
  }
}

absl::Status ScanPathsBelow(SqliteDb& db, absl::string_view prefix,
                            absl::FunctionRef<void(absl::string_view)> fn) {
  std::string end = PrefixEnd(prefix);
  ASSIGN_OR_RETURN(Stmt stmt,
                   db.Prepare("SELECT path FROM nodes WHERE path > ? AND path < ? ORDER BY path"));
  stmt.BindText(1, prefix).BindText(2, end);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::OkStatus();
    fn(stmt.TextView(0));
  }
}

absl::StatusOr<int64_t> HeadSeq(SqliteDb& db) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT seq FROM sqlite_sequence WHERE name = 'changes'"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

absl::StatusOr<int64_t> TrimmedThrough(SqliteDb& db) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT value FROM meta WHERE key = 'trimmed_through'"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

absl::Status ScanChanges(SqliteDb& db, int64_t after, absl::FunctionRef<void(const Change&)> fn) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("SELECT seq, path, kind, value FROM changes "
                                         "WHERE seq > ? ORDER BY seq"));
  stmt.BindInt(1, after);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::OkStatus();
    fn(Change{stmt.Int(0), stmt.TextView(1), static_cast<int>(stmt.Int(2)), stmt.TextView(3)});
  }
}

absl::StatusOr<int64_t> DataVersion(SqliteDb& db) {
  ASSIGN_OR_RETURN(Stmt stmt, db.Prepare("PRAGMA data_version"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

}  // namespace shale::topo::sqlite_internal
