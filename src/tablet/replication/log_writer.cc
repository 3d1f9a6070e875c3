#include "tablet/replication/log_writer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/replication/log_store.h"

namespace shale::tablet::replication {
namespace {

// Tables the session records: everything but Shale's own and SQLite's,
// except the resharding streams' state (`_shale_reshard`, tablet/reshard):
// it replicates with the rows it describes, so a new primary resumes the
// streams. Change subscriptions never show Shale's tables (change_decoder).
int TableFilter(void*, const char* table) {
  if (absl::EqualsIgnoreCase(table, "_shale_reshard")) return 1;
  return !(absl::StartsWithIgnoreCase(table, "_shale_") ||
           absl::StartsWithIgnoreCase(table, "sqlite_"));
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// How long a commit waits for the topology's answer after a pause.
constexpr absl::Duration kFenceWait = absl::Seconds(2);

}  // namespace

LogWriter::LogWriter(PositionTracker* position, AckTracker* acks)
    : position_(position), acks_(acks) {}

LogWriter::~LogWriter() { EndSession(); }

void LogWriter::SetSemiSync(bool on, absl::Duration timeout) {
  semi_sync_timeout_us_.store(absl::ToInt64Microseconds(timeout));
  semi_sync_.store(on);
}

absl::Status LogWriter::StartSession(sqlite3* db) {
  EndSession();
  int rc = sqlite3session_create(db, "main", &session_);
  if (rc != SQLITE_OK) {
    session_ = nullptr;
    return engine::SqliteError(rc, db);
  }
  sqlite3session_table_filter(session_, TableFilter, nullptr);
  rc = sqlite3session_attach(session_, nullptr);
  if (rc != SQLITE_OK) return engine::SqliteError(rc, db);
  return absl::OkStatus();
}

void LogWriter::EndSession() {
  if (session_ != nullptr) sqlite3session_delete(session_);
  session_ = nullptr;
}

absl::Status LogWriter::FlushSession() {
  if (session_ == nullptr || sqlite3session_isempty(session_)) return absl::OkStatus();
  int size = 0;
  void* data = nullptr;
  int rc = sqlite3session_changeset(session_, &size, &data);
  if (rc != SQLITE_OK) {
    return absl::InternalError(absl::StrCat("cannot take the changeset: ", sqlite3_errstr(rc)));
  }
  if (size > 0) txn_.add_parts()->set_changeset(static_cast<const char*>(data), size);
  sqlite3_free(data);
  return absl::OkStatus();
}

absl::Status LogWriter::AfterBegin(sqlite3* db) {
  txn_.Clear();
  has_ddl_ = false;
  control_.reset();
  pending_.reset();
  token_ = 0;
  return StartSession(db);
}

void LogWriter::BeforeDdl(sqlite3* db) {
  // Close the changeset before the DDL runs: an ALTER of a table the session
  // holds changes for would make its changeset fail (SQLITE_SCHEMA). A fresh
  // session (no changes, so no schema cached) records what follows.
  if (!FlushSession().ok()) {
    // Keep the failure for BeforeCommit by recording an invalid part.
    txn_.add_parts()->set_ddl("");
  }
  StartSession(db).IgnoreError();
}

void LogWriter::OnWrite(sqlite3* db, absl::string_view sql, bool is_ddl) {
  if (!is_ddl) return;
  // The DDL took effect: record it, and start a session that knows the new
  // schema.
  txn_.add_parts()->set_ddl(std::string(sql));
  has_ddl_ = true;
  StartSession(db).IgnoreError();
}

absl::Status LogWriter::BeforeCommit(sqlite3* db) {
  LogEntry entry;
  if (control_.has_value()) {
    entry.set_kind(control_->kind);
    entry.set_payload(control_->payload);
    entry.set_term(control_->term);
  } else {
    RETURN_IF_ERROR(FlushSession());
    EndSession();
    if (txn_.parts_size() == 0) return absl::OkStatus();
    for (const LogPart& part : txn_.parts()) {
      if (part.has_ddl() && part.ddl().empty()) {
        return absl::InternalError("the change session failed before a DDL statement");
      }
    }
    entry.set_kind(has_ddl_ ? DDL : CHANGESET);
    entry.set_payload(txn_.SerializeAsString());
    entry.set_term(term_.load());
  }
  // Data and control entries alike: a deposed primary's entry would make its
  // log diverge from the new primary's.
  if (fence_ != nullptr) RETURN_IF_ERROR(fence_->Check(kFenceWait));
  entry.set_seq(last_seq_.load() + 1);
  entry.set_commit_ts_us(NowMicros());
  RETURN_IF_ERROR(InsertEntryRaw(db, entry));
  pending_ = std::move(entry);
  return absl::OkStatus();
}

void LogWriter::AfterCommit(sqlite3*) {
  EndSession();
  if (pending_.has_value()) {
    last_seq_.store(pending_->seq());
    Committed c;
    c.position = PositionOf(*pending_);
    c.data = pending_->kind() == CHANGESET || pending_->kind() == DDL;
    absl::MutexLock lock(&committed_mu_);
    committed_[pending_->seq()] = std::move(c);
    token_ = pending_->seq();
  }
  pending_.reset();
  control_.reset();
  txn_.Clear();
}

void LogWriter::AfterRollback(sqlite3*) {
  EndSession();
  pending_.reset();
  control_.reset();
  txn_.Clear();
  token_ = 0;
}

int64_t LogWriter::TakeCommitToken() {
  const int64_t t = token_;
  token_ = 0;
  return t;
}

absl::Status LogWriter::AwaitDurable(int64_t token) {
  Committed c;
  {
    absl::MutexLock lock(&committed_mu_);
    auto it = committed_.find(token);
    if (it == committed_.end()) return absl::OkStatus();
    c = std::move(it->second);
    committed_.erase(it);
  }
  if (c.data && fence_ != nullptr) {
    // Paused between BeforeCommit and here? Then nobody hears of the entry
    // until the topology confirms this tablet is still the primary.
    absl::Status fenced = fence_->Check(kFenceWait);
    if (!fenced.ok()) {
      return engine::SqlError(
          absl::StatusCode::kUnavailable, "40003",
          absl::StrCat("the commit (log entry ", token,
                       ") is durable on this tablet but was not released to replicas: ",
                       fenced.message(), "; its outcome is unknown: retry idempotently"));
    }
  }
  // Durable here now: replicas may have it.
  position_->Advance(c.position);
  if (!c.data || !semi_sync_.load()) return absl::OkStatus();
  const absl::Duration timeout = absl::Microseconds(semi_sync_timeout_us_.load());
  absl::Status s = acks_->WaitForSemiSyncAck(token, absl::Now() + timeout);
  if (s.ok()) return s;
  return engine::SqlError(
      absl::StatusCode::kUnavailable, "40003",
      absl::StrCat("the commit (log entry ", token,
                   ") is durable on the primary but no replica acknowledged it within ",
                   absl::FormatDuration(timeout),
                   " (semi_sync); a failover could lose it, so its outcome is unknown: "
                   "retry idempotently"));
}

absl::StatusOr<LogPosition> LogWriter::AppendControl(engine::Engine& engine, LogEntryKind kind,
                                                     const std::string& payload,
                                                     int64_t with_term) {
  LogPosition written;
  RETURN_IF_ERROR(engine.RunInternalWrite([&](engine::WriteTxn&) {
    control_ = Control{kind, payload, with_term};
    return absl::OkStatus();
  }));
  // AfterCommit advanced the tracker to the control entry.
  written = position_->Get();
  return written;
}

}  // namespace shale::tablet::replication
