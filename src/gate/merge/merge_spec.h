#pragma once

// What the planner tells the merger about a scattered SELECT (DESIGN §5):
// how the per-shard results combine into the one result a single SQLite
// database holding every row would return. Plain data, built by the planner
// for one statement and read by Merge(); no thread confinement beyond that.

#include <cstdint>
#include <optional>
#include <vector>

namespace shale::gate::merge {

// One ORDER BY term over a column of the shard results (0-based).
struct OrderKey {
  int column = 0;
  bool desc = false;
  // Unset: SQLite's default, NULLs first for ASC and last for DESC (NULL is
  // the smallest value). Set: NULLS FIRST (true) or NULLS LAST (false).
  std::optional<bool> nulls_first = std::nullopt;
};

enum class AggKind {
  kCount,     // the column holds a per-shard COUNT: the counts are added
  kSum,       // per-shard SUM: integer unless a real is involved, NULL if all NULL
  kTotal,     // per-shard TOTAL: always a real, 0.0 for no rows
  kMin,       // per-shard MIN: the smallest non-NULL value (SQLite ordering)
  kMax,       // per-shard MAX: the largest non-NULL value
  kAvg,       // column holds the per-shard SUM, count_column the per-shard COUNT
  kAnyValue,  // a bare column: the value of the group's first row (see README)
};

struct Aggregate {
  AggKind kind = AggKind::kAnyValue;
  int column = 0;
  int count_column = -1;  // kAvg only: the column holding the per-shard COUNT
};

struct MergeSpec {
  // Columns whose values form the group key. Empty with `aggregate`: every
  // row belongs to one group.
  std::vector<int> group_by = {};
  // One per aggregated output column; a column neither listed nor grouped is
  // a bare column (kAnyValue).
  std::vector<Aggregate> aggregates = {};
  // Merge rows by group: the query has aggregates or GROUP BY.
  bool aggregate = false;
  // SELECT DISTINCT: drop rows equal (over the visible columns) to an
  // earlier one, after merging and ordering.
  bool distinct = false;
  // Applied after aggregation.
  std::vector<OrderKey> order_by = {};
  // Applied after ordering and DISTINCT. A negative limit means none, as in
  // SQLite; a negative offset counts as 0.
  std::optional<int64_t> limit = std::nullopt;
  int64_t offset = 0;
  // -1: every column is visible. Otherwise the number of leading columns the
  // client sees; trailing helper columns the planner appended (ORDER BY keys
  // not in the select list, AVG's count) are dropped from fields and rows.
  int visible_columns = -1;
};

}  // namespace shale::gate::merge
