#pragma once

// Ordering of rows by ORDER BY keys with SQLite's value rules, and the sorts
// and the k-way merge the merger builds on it.

#include <cstddef>
#include <optional>
#include <vector>

#include "gate/merge/merge_spec.h"
#include "gate/merge/row_list.h"
#include "tablet_data.pb.h"

namespace shale::gate::merge {

// A comparison of rows by a list of OrderKeys (the first key that differs
// decides). Immutable after construction; copyable; safe from any thread.
// The caller has checked that every key's column exists in every row.
class RowOrder {
 public:
  explicit RowOrder(std::vector<OrderKey> keys) : keys_(std::move(keys)) {}

  // Ascending, SQLite's default NULL placement, over `columns` in turn: the
  // order of a GROUP BY key, and the order that makes equal rows adjacent.
  static RowOrder Ascending(const std::vector<int>& columns);

  // Negative, zero or positive as a sorts before, with or after b.
  int Compare(const tablet::Row& a, const tablet::Row& b) const;
  bool Less(const RowPtr& a, const RowPtr& b) const { return Compare(*a, *b) < 0; }

 private:
  std::vector<OrderKey> keys_;
};

// Sorts rows by order; equal rows keep their relative order.
void StableSortRows(RowList& rows, const RowOrder& order);

// Merges runs into one list sorted by order, ties kept in run order and then
// in their order within the run: the result is what a stable sort of the
// runs' concatenation gives. Each run is expected to be sorted already (the
// shards ran the same ORDER BY) and is merged in O(n log k); a run that is not
// sorted is stable-sorted first, so the result never depends on that
// expectation. Stops after max_rows rows when given (the rest are dropped).
RowList MergeSortedRuns(std::vector<RowList> runs, const RowOrder& order,
                        std::optional<size_t> max_rows);

}  // namespace shale::gate::merge
