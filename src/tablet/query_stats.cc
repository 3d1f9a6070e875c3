#include "tablet/query_stats.h"

#include "absl/status/status.h"

namespace shale::tablet {

const char* QueryKindName(QueryKind kind) {
  switch (kind) {
    case QueryKind::kExecute:
      return "execute";
    case QueryKind::kStreamExecute:
      return "stream_execute";
    case QueryKind::kBegin:
      return "begin";
    case QueryKind::kCommit:
      return "commit";
    case QueryKind::kRollback:
      return "rollback";
    case QueryKind::kDba:
      return "execute_fetch_as_dba";
    case QueryKind::kCount:
      break;
  }
  return "unknown";
}

QueryStats::QueryStats(metrics::MetricsRegistry* registry) {
  metrics::CounterFamily* calls = registry->AddCounterFamily(
      "shale_tablet_queries_total", "Query-path calls served, by kind.", {"kind"});
  metrics::HistogramFamily* latency = registry->AddHistogramFamily(
      "shale_tablet_query_seconds", "Latency of query-path calls, by kind.", {"kind"},
      metrics::LatencyBuckets());
  errors_ = registry->AddCounterFamily("shale_tablet_query_errors_total",
                                       "Query-path calls that failed, by kind and status code.",
                                       {"kind", "code"});
  for (int i = 0; i < kKinds; ++i) {
    const char* name = QueryKindName(static_cast<QueryKind>(i));
    calls_[i] = calls->WithLabels({name});
    latency_[i] = latency->WithLabels({name});
  }
}

void QueryStats::Record(QueryKind kind, absl::Duration latency, absl::StatusCode code) {
  total_.fetch_add(1, std::memory_order_relaxed);
  calls_[Index(kind)]->Inc();
  latency_[Index(kind)]->ObserveDuration(latency);
  if (code != absl::StatusCode::kOk) {
    errors_->WithLabels({QueryKindName(kind), absl::StatusCodeToString(code)})->Inc();
  }
}

}  // namespace shale::tablet
