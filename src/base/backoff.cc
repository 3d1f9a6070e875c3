#include "base/backoff.h"

#include <algorithm>

namespace shale {

absl::Duration Backoff::Next() {
  absl::Duration d = next_;
  next_ = std::min(next_ * 2, max_);
  double jitter = absl::Uniform(gen_, 0.8, 1.2);
  return d * jitter;
}

}  // namespace shale
