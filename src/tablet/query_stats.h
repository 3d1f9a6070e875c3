#pragma once

// QueryStats counts the tablet's query traffic in a metrics::MetricsRegistry
// (served on /metrics): calls by kind, errors by kind and status code, and a
// latency histogram by kind. The health stream derives qps from total().
//
//   shale_tablet_queries_total{kind="execute"}
//   shale_tablet_query_errors_total{kind="execute",code="ALREADY_EXISTS"}
//   shale_tablet_query_seconds_bucket{kind="execute",le="0.001"}
//
// Owned by the tablet server; the registry is borrowed and must outlive it.
// Thread-safe: Record takes no lock on the common path (label children are
// looked up once at construction; error children on first use).

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/metrics/registry.h"

namespace shale::tablet {

enum class QueryKind { kExecute, kStreamExecute, kBegin, kCommit, kRollback, kDba, kCount };

// "execute", "stream_execute", ...
const char* QueryKindName(QueryKind kind);

class QueryStats {
 public:
  explicit QueryStats(metrics::MetricsRegistry* registry);

  void Record(QueryKind kind, absl::Duration latency, absl::StatusCode code);

  int64_t total() const { return total_.load(std::memory_order_relaxed); }
  uint64_t calls(QueryKind kind) const { return calls_[Index(kind)]->Value(); }

 private:
  static int Index(QueryKind kind) { return static_cast<int>(kind); }
  static constexpr int kKinds = static_cast<int>(QueryKind::kCount);

  std::atomic<int64_t> total_{0};
  std::array<metrics::Counter*, kKinds> calls_{};
  std::array<metrics::Histogram*, kKinds> latency_{};
  metrics::CounterFamily* errors_;
};

}  // namespace shale::tablet
