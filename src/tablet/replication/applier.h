#pragma once

// Applier: applies log entries on a replica (DESIGN §4, "Streaming"). A batch
// of entries is applied in one local SQLite transaction together with their
// own _shale_log rows, so the data and the log position always agree; the
// commit hook is not called (the rows are the primary's, not new ones).
//
// - CHANGESET / DDL: the LogTxn's parts in order: sqlite3changeset_apply for
//   a changeset, the statement text for DDL. A conflict (a row that should be
//   there is missing, or is different) means the replica diverged: the batch
//   is rolled back with DataLoss, and the caller re-clones.
// - CHANGE_CONFIG: raises the known term; the batch ends after it so the
//   caller can act on it (promotion, a new source).
// - HEARTBEAT: only its log row.
// - Fencing: an entry with a term older than the newest known term, or a seq
//   that does not follow the position, is refused (FailedPrecondition /
//   DataLoss) and nothing of the batch is applied.
//
// Stateless apart from its borrowed engine; used by the ReplicationManager's
// stream thread only.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "replication_data.pb.h"
#include "tablet/engine/engine.h"

namespace shale::tablet::replication {

struct ApplyResult {
  int applied = 0;             // entries applied (a prefix of the batch)
  LogPosition position;        // the newest applied entry
  int64_t term = 0;            // the newest known term afterwards
  std::optional<ChangeConfig> change_config;  // the batch stopped after this entry
};

// Applies a prefix of entries (all of them unless a CHANGE_CONFIG comes
// first). `after` is the current position, `known_term` the newest known term.
absl::StatusOr<ApplyResult> ApplyEntries(engine::Engine& engine, absl::Span<const LogEntry> entries,
                                         const LogPosition& after, int64_t known_term);

}  // namespace shale::tablet::replication
