#pragma once

// The JSON form of metrics on /debug/vars:
//
//   {"shale_queries_total": {"type": "counter", "help": "...",
//                            "samples": [{"labels": {"type": "select"}, "value": 3}]},
//    "shale_query_seconds": {"type": "histogram", "help": "...",
//                            "samples": [{"labels": {}, "count": 4, "sum": 2.05,
//                                         "buckets": [{"le": "0.005", "count": 2}, ...,
//                                                     {"le": "+Inf", "count": 4}]}]}}
//
// Bucket bounds are strings in the Prometheus spelling; JSON has no +Inf.
// A NaN or infinite value becomes null. Pure function, safe from any thread.

#include <vector>

#include "base/metrics/snapshot.h"
#include "nlohmann/json.hpp"

namespace shale::http {

nlohmann::json MetricsToJson(const std::vector<metrics::FamilySnapshot>& families);

}  // namespace shale::http
