#pragma once

// The merger's working set: rows taken out of the shard results by pointer
// (no Value is copied), owned by the list, handed to the merged result at the
// end. A RowList belongs to one Merge() call on one thread.

#include <memory>
#include <vector>

#include "tablet_data.pb.h"

namespace shale::gate::merge {

using RowPtr = std::unique_ptr<tablet::Row>;
using RowList = std::vector<RowPtr>;

}  // namespace shale::gate::merge
