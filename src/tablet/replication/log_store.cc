#include "tablet/replication/log_store.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/engine/sqlite_errors.h"

namespace shale::tablet::replication {
namespace {

using engine::Value;

LogEntry EntryFromRow(absl::Span<const Value> row) {
  LogEntry e;
  e.set_seq(row[0].int64());
  e.set_term(row[1].int64());
  e.set_kind(static_cast<LogEntryKind>(row[2].int64()));
  if (row[3].type() == Value::Type::kBlob) {
    e.set_payload(row[3].blob());
  } else if (row[3].type() == Value::Type::kText) {
    e.set_payload(row[3].text());
  }
  e.set_commit_ts_us(row[4].int64());
  return e;
}

}  // namespace

absl::Status CreateLogTable(engine::Engine& engine) {
  // Without the commit hook: the log's own table is not a logged change.
  return engine.RunInternalWrite(
      [](engine::WriteTxn& txn) {
        return txn
            .Execute("CREATE TABLE IF NOT EXISTS _shale_log (seq INTEGER PRIMARY KEY, "
                     "term INTEGER NOT NULL, kind INTEGER NOT NULL, payload BLOB NOT NULL, "
                     "commit_ts INTEGER NOT NULL)",
                     {}, engine::Access::kInternal)
            .status();
      },
      /*with_hook=*/false);
}

absl::StatusOr<LogState> ReadLogState(engine::Engine& engine) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.ExecuteInternal("SELECT seq, term, commit_ts, "
                                          "(SELECT min(seq) FROM _shale_log) FROM _shale_log "
                                          "ORDER BY seq DESC LIMIT 1"));
  LogState state;
  if (rs.rows.empty()) return state;
  const auto& row = rs.rows[0];
  state.position.set_seq(row[0].int64());
  state.position.set_term(row[1].int64());
  state.position.set_commit_ts_us(row[2].int64());
  state.first_seq = row[3].int64();
  return state;
}

absl::StatusOr<std::vector<LogEntry>> ReadEntries(engine::Engine& engine, int64_t after,
                                                  int max_entries, int64_t max_bytes) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.ExecuteInternal("SELECT seq, term, kind, payload, commit_ts FROM "
                                          "_shale_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                                          {Value(after), Value(max_entries)}));
  std::vector<LogEntry> out;
  int64_t bytes = 0;
  for (const auto& row : rs.rows) {
    if (!out.empty() && bytes >= max_bytes) break;
    out.push_back(EntryFromRow(row));
    bytes += static_cast<int64_t>(out.back().payload().size()) + 32;
  }
  return out;
}

absl::StatusOr<LogEntry> ReadEntry(engine::Engine& engine, int64_t seq) {
  ASSIGN_OR_RETURN(engine::ResultSet rs,
                   engine.ExecuteInternal("SELECT seq, term, kind, payload, commit_ts FROM "
                                          "_shale_log WHERE seq = ?1",
                                          {Value(seq)}));
  if (rs.rows.empty()) return absl::NotFoundError(absl::StrCat("log entry ", seq, " not found"));
  return EntryFromRow(rs.rows[0]);
}

absl::Status InsertEntry(engine::WriteTxn& txn, const LogEntry& entry) {
  return txn
      .Execute("INSERT INTO _shale_log (seq, term, kind, payload, commit_ts) "
               "VALUES (?1, ?2, ?3, ?4, ?5)",
               {Value(entry.seq()), Value(entry.term()), Value(static_cast<int64_t>(entry.kind())),
                Value::Blob(entry.payload()), Value(entry.commit_ts_us())},
               engine::Access::kInternal)
      .status();
}

absl::Status InsertEntryRaw(sqlite3* db, const LogEntry& entry) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db,
                              "INSERT INTO _shale_log (seq, term, kind, payload, commit_ts) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)",
                              -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return engine::SqliteError(rc, db);
  sqlite3_bind_int64(stmt, 1, entry.seq());
  sqlite3_bind_int64(stmt, 2, entry.term());
  sqlite3_bind_int64(stmt, 3, entry.kind());
  sqlite3_bind_blob64(stmt, 4, entry.payload().data(), entry.payload().size(), SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 5, entry.commit_ts_us());
  rc = sqlite3_step(stmt);
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : engine::SqliteError(rc, db);
  sqlite3_finalize(stmt);
  return status;
}

absl::StatusOr<int64_t> TrimLog(engine::Engine& engine, int64_t keep_from) {
  int64_t deleted = 0;
  RETURN_IF_ERROR(engine.RunInternalWrite(
      [&](engine::WriteTxn& txn) -> absl::Status {
        ASSIGN_OR_RETURN(engine::ResultSet rs,
                         txn.Execute("DELETE FROM _shale_log WHERE seq < ?1", {Value(keep_from)},
                                     engine::Access::kInternal));
        deleted = rs.rows_affected;
        return absl::OkStatus();
      },
      /*with_hook=*/false));
  return deleted;
}

LogPosition PositionOf(const LogEntry& entry) {
  LogPosition p;
  p.set_seq(entry.seq());
  p.set_term(entry.term());
  p.set_commit_ts_us(entry.commit_ts_us());
  return p;
}

}  // namespace shale::tablet::replication
