#pragma once

// Test-only: one row of the table-driven Merge() tests and its check.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gate/merge/merge_spec.h"
#include "gate/merge/test_values.h"
#include "tablet_data.pb.h"

namespace shale::gate::merge {

struct MergeCase {
  std::string name;
  std::vector<tablet::QueryResult> shards;
  MergeSpec spec;
  ValueRows want = {};  // the merged rows, in order
  absl::StatusCode want_code = absl::StatusCode::kOk;
  std::string want_sqlstate = "";  // checked when want_code is not OK
};

// Runs Merge on a copy of c.shards and checks rows (or the error) with gtest.
void CheckMergeCase(const MergeCase& c);

}  // namespace shale::gate::merge
