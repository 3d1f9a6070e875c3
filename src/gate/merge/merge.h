#pragma once

// The gateway's merge of a scattered SELECT (DESIGN §5): the per-shard results
// of the statement the planner sent to every shard become the result one
// SQLite database holding all the rows would return. Which rules apply is in
// README.md. Stateless; safe from any thread.

#include <vector>

#include "absl/status/statusor.h"
#include "gate/merge/merge_spec.h"
#include "tablet_data.pb.h"

namespace shale::gate::merge {

// Merges shard_results (one per shard, in shard order; consumed: rows are
// moved, not copied) as spec says. Steps: group and aggregate (spec.aggregate),
// order (spec.order_by; else group-key order after aggregation, else shard
// order), DISTINCT, OFFSET, LIMIT, then drop the hidden helper columns.
// Fields come from the first shard result that has any; rows_affected is the
// sum; last_insert_id is the first non-zero one.
// Errors: OUT_OF_RANGE / 22003 "integer overflow" when an integer SUM
// overflows; INTERNAL / XX000 when shards disagree on the column count or the
// spec names a column the results do not have.
absl::StatusOr<tablet::QueryResult> Merge(std::vector<tablet::QueryResult> shard_results,
                                          const MergeSpec& spec);

}  // namespace shale::gate::merge
