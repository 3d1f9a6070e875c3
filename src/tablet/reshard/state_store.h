#pragma once

// The `_shale_reshard` table: one row per filtered-replication stream of
// this shard (keyed by SourceShard.uid) with its source, start position,
// phase, applied source position and counters (issue 10). A stream writes
// its row in the same transaction as the rows or events it applies, so the
// row always names exactly what was applied. The table is created on every
// tablet without a log entry (like `_shale_log`), and its row changes are in
// the replication log's changesets (replication/log_writer.cc records it,
// and only it, of Shale's own tables), so a newly promoted primary resumes
// where the old one stopped. Change subscriptions never show it.
//
// Stateless functions over the engine; thread-safe as the engine is.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reshard_data.pb.h"
#include "tablet/engine/engine.h"
#include "topodata.pb.h"

namespace shale::tablet::reshard {

inline constexpr char kStateTable[] = "_shale_reshard";

// A stream's row: its StreamState (lag_ms is not stored) and where the
// SourceShard said to start (0: copy first).
struct StreamRecord {
  StreamState state;
  int64_t start_seq = 0;
  int64_t start_term = 0;
};

// Whether the row was made for this SourceShard (same source, direction and
// start position); a row that was not is stale and gets deleted.
bool SameSource(const StreamRecord& record, const topodata::Shard::SourceShard& source);

// A fresh row for source: COPYING at position 0, or RUNNING from
// start_seq/start_term when they are set.
StreamRecord NewRecord(const topodata::Shard::SourceShard& source);

// CREATE TABLE IF NOT EXISTS, without the commit hook (no log entry).
absl::Status CreateStateTable(engine::Engine& engine);

absl::StatusOr<std::optional<StreamRecord>> ReadRecord(engine::Engine& engine, uint32_t uid);
absl::StatusOr<std::vector<StreamRecord>> ReadRecords(engine::Engine& engine);

// Inserts or replaces the row (updated_at_us is set to now), inside txn.
absl::Status WriteRecord(engine::WriteTxn& txn, StreamRecord* record);
absl::Status DeleteRecord(engine::WriteTxn& txn, uint32_t uid);

}  // namespace shale::tablet::reshard
