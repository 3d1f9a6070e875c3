#include "gate/merge/row_order.h"

#include <algorithm>
#include <utility>

#include "gate/merge/value_compare.h"

namespace shale::gate::merge {
namespace {

// The head of one run during the k-way merge.
struct Cursor {
  size_t run;
  size_t pos;
};

}  // namespace

RowOrder RowOrder::Ascending(const std::vector<int>& columns) {
  std::vector<OrderKey> keys;
  keys.reserve(columns.size());
  for (int column : columns) keys.push_back(OrderKey{.column = column});
  return RowOrder(std::move(keys));
}

int RowOrder::Compare(const tablet::Row& a, const tablet::Row& b) const {
  for (const OrderKey& key : keys_) {
    const tablet::Value& va = a.values(key.column);
    const tablet::Value& vb = b.values(key.column);
    const bool a_null = IsSqlNull(va);
    const bool b_null = IsSqlNull(vb);
    if (a_null || b_null) {
      if (a_null && b_null) continue;
      const bool nulls_first = key.nulls_first.value_or(!key.desc);
      return a_null == nulls_first ? -1 : 1;
    }
    const int c = CompareValues(va, vb);
    if (c != 0) return key.desc ? -c : c;
  }
  return 0;
}

void StableSortRows(RowList& rows, const RowOrder& order) {
  std::stable_sort(rows.begin(), rows.end(),
                   [&order](const RowPtr& a, const RowPtr& b) { return order.Less(a, b); });
}

RowList MergeSortedRuns(std::vector<RowList> runs, const RowOrder& order,
                        std::optional<size_t> max_rows) {
  size_t total = 0;
  std::vector<Cursor> heap;
  for (size_t r = 0; r < runs.size(); ++r) {
    RowList& run = runs[r];
    if (!std::is_sorted(run.begin(), run.end(),
                        [&order](const RowPtr& a, const RowPtr& b) { return order.Less(a, b); })) {
      StableSortRows(run, order);
    }
    total += run.size();
    if (!run.empty()) heap.push_back(Cursor{r, 0});
  }
  const size_t wanted = std::min(total, max_rows.value_or(total));
  // std::*_heap keep the greatest element first: "greater" here means the
  // row that comes later, ties broken by the later run.
  auto after = [&runs, &order](const Cursor& a, const Cursor& b) {
    const int c = order.Compare(*runs[a.run][a.pos], *runs[b.run][b.pos]);
    return c != 0 ? c > 0 : a.run > b.run;
  };
  std::make_heap(heap.begin(), heap.end(), after);
  RowList merged;
  merged.reserve(wanted);
  while (merged.size() < wanted) {
    std::pop_heap(heap.begin(), heap.end(), after);
    Cursor& next = heap.back();
    merged.push_back(std::move(runs[next.run][next.pos]));
    if (++next.pos < runs[next.run].size()) {
      std::push_heap(heap.begin(), heap.end(), after);
    } else {
      heap.pop_back();
    }
  }
  return merged;
}

}  // namespace shale::gate::merge
