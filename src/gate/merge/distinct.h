#pragma once

// SELECT DISTINCT over merged rows. Stateless, safe from any thread.

#include "gate/merge/row_list.h"

namespace shale::gate::merge {

// Drops every row equal over columns [0, columns) to an earlier row (SQLite's
// equality: NULLs are equal, 1 equals 1.0), keeping the first of each set of
// equal rows and the order of the rows kept. O(n log n), no hashing.
// The caller has checked that every row has at least `columns` values.
void DropDuplicateRows(RowList& rows, int columns);

}  // namespace shale::gate::merge
