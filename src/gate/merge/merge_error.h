#pragma once

// The errors the merger returns, each with its SQLSTATE (base/sqlstate.h).
// Stateless, safe from any thread.

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/sqlstate.h"

namespace shale::gate::merge {

// numeric_value_out_of_range: SUM's "integer overflow", as SQLite reports it.
inline constexpr absl::string_view kNumericValueOutOfRange = "22003";

// INTERNAL / XX000: shard results or a MergeSpec that cannot come from a
// correct planner and correct tablets (a bug, not a user error).
inline absl::Status MergeInternalError(absl::string_view message) {
  return SqlError(absl::StatusCode::kInternal, sqlstate::kInternalError,
                  absl::StrCat("scatter merge: ", message));
}

// OUT_OF_RANGE / 22003 "integer overflow".
inline absl::Status IntegerOverflowError() {
  return SqlError(absl::StatusCode::kOutOfRange, kNumericValueOutOfRange, "integer overflow");
}

}  // namespace shale::gate::merge
