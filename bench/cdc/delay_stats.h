#pragma once

// DelayStats: the commit -> arrival delays of row events, and how many
// arrived, as bench/cdc's binaries print them: one "key=value" line. Owned by
// one binary's main thread.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

namespace shale::bench {

class DelayStats {
 public:
  void Add(int64_t delay_us) { delays_.push_back(delay_us); }
  int64_t count() const { return static_cast<int64_t>(delays_.size()); }

  // "events=N seconds=S events_per_s=R delay_ms_p50=.. p90=.. p99=.. max=.."
  std::string Line(double seconds) {
    std::sort(delays_.begin(), delays_.end());
    auto pct = [&](double p) -> double {
      if (delays_.empty()) return 0;
      return delays_[std::min(delays_.size() - 1, static_cast<size_t>(p * delays_.size()))] /
             1000.0;
    };
    return absl::StrFormat(
        "events=%d seconds=%.2f events_per_s=%.0f delay_ms_p50=%.2f p90=%.2f p99=%.2f max=%.2f",
        count(), seconds, seconds > 0 ? count() / seconds : 0.0, pct(0.5), pct(0.9), pct(0.99),
        pct(1.0));
  }

 private:
  std::vector<int64_t> delays_;
};

}  // namespace shale::bench
