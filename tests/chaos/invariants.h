#pragma once

// The end-of-run checks of the chaos test as pure functions of what the
// clients saw and what the cluster holds: acknowledged rows against the rows
// read back, and client errors against the windows in which a fault was
// active. Pure; any thread.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/chaos/chaos_load.h"

namespace shale::chaos {

struct RowCheck {
  int64_t rows = 0;                 // rows read back
  int64_t acked = 0;                // acknowledged ids
  std::vector<int64_t> lost;        // acknowledged, not read back
  std::vector<int64_t> duplicated;  // read back more than once
  std::vector<int64_t> phantom;     // read back, never written by anyone
  int64_t unknown_present = 0;      // outcome unknown to the client, present
  int64_t unknown_absent = 0;       // outcome unknown to the client, absent
};

// acked, unknown: sorted ids the clients acknowledged / got an error for;
// rows: every id read back (any order, duplicates kept).
RowCheck CheckRows(const std::vector<int64_t>& acked, const std::vector<int64_t>& unknown,
                   std::vector<int64_t> rows);

// A span of time in which errors are expected: a fault from its injection
// until the cluster was healthy again, plus a grace period.
struct FaultWindow {
  std::string name;
  absl::Time start;
  absl::Time end;
};

struct ErrorCheck {
  std::vector<ClientError> during_faults;
  std::vector<ClientError> outside_faults;
};
ErrorCheck ClassifyErrors(const std::vector<ClientError>& errors,
                          const std::vector<FaultWindow>& windows);

// The first n ids as text ("1, 2, 3 ... (N in all)").
std::string Sample(const std::vector<int64_t>& ids, size_t n = 10);

}  // namespace shale::chaos
