#pragma once

// WaitFor polls a condition until it holds or the timeout passes: how tests
// wait for state (a leader elected, a row replicated) without a fixed sleep.
// The pause between tries starts at 5 ms and doubles up to 100 ms. Runs on
// the caller's thread; cond is called from it only.

#include <algorithm>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shale {

// True as soon as cond() is true; false if it is still false at the timeout.
template <typename Cond>
bool WaitFor(absl::Duration timeout, Cond cond) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(5);
  while (!cond()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(100));
  }
  return true;
}

}  // namespace shale
