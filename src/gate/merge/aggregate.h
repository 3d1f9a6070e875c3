#pragma once

// Folding per-shard aggregate rows into one row per group, with SQLite's
// semantics for each aggregate (see AggKind in merge_spec.h and README.md).
// Stateless functions, safe from any thread.

#include "absl/status/statusor.h"
#include "gate/merge/merge_spec.h"
#include "gate/merge/row_list.h"

namespace shale::gate::merge {

// One row per distinct group key (spec.group_by; all rows form one group when
// it is empty), in ascending group-key order. Each output row is the group's
// first row (shard order, then row order) with its aggregated columns replaced
// by the merged aggregates; bare columns keep that row's values, or when the
// spec has exactly one kMin/kMax, the values of the row that holds the winning
// MIN/MAX (SQLite's bare-column rule). No rows in, no rows out.
// The caller has checked that every column the spec names exists in every row.
// Errors: OUT_OF_RANGE / 22003 when an integer SUM overflows; INTERNAL /
// XX000 when a COUNT, SUM, TOTAL or AVG column holds a text or blob, or a
// COUNT a real.
absl::StatusOr<RowList> AggregateRows(RowList rows, const MergeSpec& spec);

}  // namespace shale::gate::merge
