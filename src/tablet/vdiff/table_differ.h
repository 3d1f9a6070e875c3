#pragma once

// TableDiffer: the merge-compare of VDiff (issue 10). It walks one table's
// source rows (primary key + RowHash, in PkOrderBy order, pulled from a
// RowHashCursor, in practice a RowHashes call) against the target's rows of
// the same snapshot point (pushed one by one in the same order) and counts
// rows missing on the target, extra on the target and different (same key,
// other hash), keeping the first few as examples ("missing pk=(5)").
// Both sequences must be strictly increasing in pk order; a sequence that is
// not is reported as an Internal error rather than a wrong diff.
//
// Owned by the caller for one table of one stream; single-threaded.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "reshard_data.pb.h"
#include "tablet/engine/value.h"

namespace shale::tablet::vdiff {

// One row as the source reports it.
struct KeyedHash {
  std::vector<engine::Value> pk;
  uint64_t hash = 0;
};

// The source's rows in pk order.
class RowHashCursor {
 public:
  virtual ~RowHashCursor() = default;
  // The next row, or nullptr after the last one. The row stays valid until
  // the next call.
  virtual absl::StatusOr<const KeyedHash*> Next() = 0;
};

// The counts of one comparison.
struct DiffCounts {
  int64_t source_rows = 0;
  int64_t target_rows = 0;
  int64_t missing_on_target = 0;
  int64_t extra_on_target = 0;
  int64_t different = 0;
  uint64_t source_checksum = 0;  // wrapping sum of the row hashes
  uint64_t target_checksum = 0;
  std::vector<std::string> examples;

  bool match() const { return missing_on_target == 0 && extra_on_target == 0 && different == 0; }
};

class TableDiffer {
 public:
  // source is borrowed and must outlive the differ; max_examples >= 0.
  TableDiffer(RowHashCursor* source, int max_examples);

  // The target's next row, in pk order.
  absl::Status AddTarget(absl::Span<const engine::Value> pk, uint64_t hash);
  // After the target's last row: the source's remaining rows are missing.
  absl::Status Finish();

  const DiffCounts& counts() const { return counts_; }

 private:
  // Makes pending_ the source's next row (nullptr at its end).
  absl::Status Advance();
  void Example(absl::string_view what, absl::Span<const engine::Value> pk);

  RowHashCursor* const source_;
  const int max_examples_;
  bool started_ = false;
  const KeyedHash* pending_ = nullptr;
  std::vector<engine::Value> last_source_;
  std::vector<engine::Value> last_target_;
  bool have_last_source_ = false;
  bool have_last_target_ = false;
  DiffCounts counts_;
};

// Adds one comparison (one stream's part of a table) into a table's total:
// counts are summed, examples appended up to max_examples, match recomputed.
void AddToTableDiff(const DiffCounts& counts, int max_examples, TableDiff* out);

}  // namespace shale::tablet::vdiff
