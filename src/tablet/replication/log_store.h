#pragma once

// The replication log table, _shale_log (DESIGN §4; format in
// docs/replication.md):
//
//   _shale_log(seq INTEGER PRIMARY KEY, term INTEGER NOT NULL,
//              kind INTEGER NOT NULL, payload BLOB NOT NULL,
//              commit_ts INTEGER NOT NULL)   -- commit_ts: microseconds
//
// A row is written in the same SQLite transaction as the data it describes,
// on the primary by the LogWriter (a CommitHook) and on a replica by the
// Applier, so after a crash the log and the data always agree. The newest
// row is the tablet's log position.
//
// Free functions over an Engine or an open WriteTxn; no state of their own.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replication_data.pb.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/write_txn.h"

namespace shale::tablet::replication {

// Creates _shale_log if missing. Errors: the engine's.
absl::Status CreateLogTable(engine::Engine& engine);

// The newest entry (seq 0, term 0 for an empty log), and the newest term
// named by a CHANGE_CONFIG entry still in the log (0 if none).
struct LogState {
  LogPosition position;
  int64_t first_seq = 0;  // oldest retained entry (0 for an empty log)
};
absl::StatusOr<LogState> ReadLogState(engine::Engine& engine);

// Entries with seq > after, oldest first, at most max_entries and roughly
// max_bytes of payload (always at least one entry if any exists).
absl::StatusOr<std::vector<LogEntry>> ReadEntries(engine::Engine& engine, int64_t after,
                                                  int max_entries, int64_t max_bytes);

// The entry at seq, NotFound if it is not (or no longer) in the log.
absl::StatusOr<LogEntry> ReadEntry(engine::Engine& engine, int64_t seq);

// Inserts one log row inside txn.
absl::Status InsertEntry(engine::WriteTxn& txn, const LogEntry& entry);
// The same on a raw connection inside an open transaction (the LogWriter's
// BeforeCommit).
absl::Status InsertEntryRaw(sqlite3* db, const LogEntry& entry);

// Deletes entries with seq < keep_from (retention). Returns how many went.
absl::StatusOr<int64_t> TrimLog(engine::Engine& engine, int64_t keep_from);

// LogPosition of an entry.
LogPosition PositionOf(const LogEntry& entry);

}  // namespace shale::tablet::replication
