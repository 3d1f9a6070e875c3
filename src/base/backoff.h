#pragma once

// Exponential backoff with jitter for retry loops (topology reconnects,
// background record writes).
//
//   Backoff b;
//   while (!TryIt().ok()) absl::SleepFor(b.Next());
//
// Not thread-safe: one instance per retry loop.

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace shale {

class Backoff {
 public:
  explicit Backoff(absl::Duration initial = absl::Milliseconds(10),
                   absl::Duration max = absl::Seconds(2))
      : initial_(initial), max_(max), next_(initial) {}

  // The next delay: grows 2x per call up to max, with +-20% jitter.
  absl::Duration Next();
  void Reset() { next_ = initial_; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  absl::Duration next_;
  absl::BitGen gen_;
};

}  // namespace shale
