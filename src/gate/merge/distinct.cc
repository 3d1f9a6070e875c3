#include "gate/merge/distinct.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "gate/merge/row_order.h"

namespace shale::gate::merge {

void DropDuplicateRows(RowList& rows, int columns) {
  if (rows.size() < 2) return;
  std::vector<int> all_columns(columns);
  std::iota(all_columns.begin(), all_columns.end(), 0);
  const RowOrder order = RowOrder::Ascending(all_columns);
  // Sort positions (stably, so the first of equal rows leads its run), mark
  // all but the first of each run, then compact in the original order.
  std::vector<size_t> positions(rows.size());
  std::iota(positions.begin(), positions.end(), 0);
  std::stable_sort(positions.begin(), positions.end(), [&rows, &order](size_t a, size_t b) {
    return order.Compare(*rows[a], *rows[b]) < 0;
  });
  std::vector<bool> duplicate(rows.size(), false);
  for (size_t k = 1; k < positions.size(); ++k) {
    if (order.Compare(*rows[positions[k - 1]], *rows[positions[k]]) == 0) {
      duplicate[positions[k]] = true;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!duplicate[i]) rows[kept++] = std::move(rows[i]);
  }
  rows.resize(kept);
}

}  // namespace shale::gate::merge
