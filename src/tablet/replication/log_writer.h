#pragma once

// LogWriter: the CommitHook (engine/commit_hook.h) that turns every write
// transaction of a primary into one row of _shale_log, in the same SQLite
// transaction (DESIGN §4, "Row-based log").
//
// - AfterBegin attaches a sqlite3session to every table except _shale_ ones.
// - OnWrite of a DDL statement closes the changeset so far and records the
//   statement text; a fresh session follows it (new tables included).
// - BeforeCommit writes the LogTxn (changesets and DDL in execution order) as
//   a CHANGESET or DDL entry with seq = position + 1 and the current term. A
//   transaction that changed no row writes no entry.
// - AppendControl writes a CHANGE_CONFIG or HEARTBEAT entry on its own.
// - The PositionTracker (which wakes StreamLog senders) advances in
//   AwaitDurable, once the engine has made the commit durable locally, so no
//   replica ever holds an entry its primary could still lose.
// - Under semi_sync, the commit's token is its seq and AwaitDurable waits,
//   with the writer already given back, for one semi-sync replica to
//   acknowledge it (so concurrent commits share one wait: group commit).
//   Past semi_sync_timeout the commit fails with Unavailable / SQLSTATE 40003
//   (statement_completion_unknown): it is committed here, but no replica has
//   it, so a failover could lose it. Retry idempotently.
//
// Owned by the ReplicationService; the engine borrows it through
// EngineOptions. Hook methods run on the writer's thread, one transaction at
// a time (the engine guarantees it); the setters may be called from any
// thread.

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication_data.pb.h"
#include "tablet/engine/commit_hook.h"
#include "tablet/engine/engine.h"
#include "tablet/replication/ack_tracker.h"
#include "tablet/replication/position_tracker.h"
#include "tablet/replication/primary_fence.h"

namespace shale::tablet::replication {

class LogWriter final : public engine::CommitHook {
 public:
  // Both borrowed; they must outlive the LogWriter.
  LogWriter(PositionTracker* position, AckTracker* acks);
  ~LogWriter() override;

  // The term written into new entries.
  void SetTerm(int64_t term) { term_.store(term); }
  int64_t term() const { return term_.load(); }
  void SetSemiSync(bool on, absl::Duration timeout);
  // The newest seq in the log: the next entry gets seq + 1. Set when the
  // tablet starts writing (startup, promotion), while nothing else writes.
  void ResetSeq(int64_t seq) { last_seq_.store(seq); }
  bool semi_sync() const { return semi_sync_.load(); }
  // Borrowed; set once before the engine opens.
  void SetFence(PrimaryFence* fence) { fence_ = fence; }

  // Writes one control entry (CHANGE_CONFIG, HEARTBEAT) in its own
  // transaction and returns its position. with_term: the entry's term (a
  // CHANGE_CONFIG carries the new term). Does not wait for semi-sync.
  absl::StatusOr<LogPosition> AppendControl(engine::Engine& engine, LogEntryKind kind,
                                            const std::string& payload, int64_t with_term);

  // engine::CommitHook
  absl::Status AfterBegin(sqlite3* db) override;
  void BeforeDdl(sqlite3* db) override;
  void OnWrite(sqlite3* db, absl::string_view sql, bool is_ddl) override;
  absl::Status BeforeCommit(sqlite3* db) override;
  void AfterCommit(sqlite3* db) override;
  void AfterRollback(sqlite3* db) override;
  int64_t TakeCommitToken() override;
  absl::Status AwaitDurable(int64_t token) override;

 private:
  absl::Status StartSession(sqlite3* db);
  // Moves the session's changeset (if any change) into txn_.
  absl::Status FlushSession();
  void EndSession();

  PositionTracker* const position_;
  AckTracker* const acks_;
  PrimaryFence* fence_ = nullptr;
  std::atomic<int64_t> term_{0};
  std::atomic<bool> semi_sync_{false};
  std::atomic<int64_t> semi_sync_timeout_us_{1000000};

  // Writer thread only (one transaction at a time).
  sqlite3_session* session_ = nullptr;
  LogTxn txn_;
  bool has_ddl_ = false;
  struct Control {
    LogEntryKind kind;
    std::string payload;
    int64_t term;
  };
  std::optional<Control> control_;
  std::optional<LogEntry> pending_;  // written by BeforeCommit, not yet committed
  int64_t token_ = 0;
  std::atomic<int64_t> last_seq_{0};
  // Committed entries not yet durable, by seq (AwaitDurable publishes them).
  struct Committed {
    LogPosition position;
    bool data = false;  // CHANGESET or DDL: semi-sync waits for it
  };
  absl::Mutex committed_mu_;
  absl::flat_hash_map<int64_t, Committed> committed_ ABSL_GUARDED_BY(committed_mu_);
};

}  // namespace shale::tablet::replication
