#pragma once

// The Prometheus text exposition format (version 0.0.4): rendering of metric
// snapshots, plus the name checks and escaping rules the format imposes.
// Pure functions, safe from any thread.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/metrics/snapshot.h"

namespace shale::metrics {

// The Content-Type a /metrics handler should send with RenderPrometheusText().
inline constexpr absl::string_view kPrometheusContentType = "text/plain; version=0.0.4";

// One "# HELP", one "# TYPE" and the sample lines per family, in the given
// order (MetricsRegistry passes them sorted by name). Histograms expand to
// name_bucket{...,le="..."}, name_sum and name_count.
std::string RenderPrometheusText(const std::vector<FamilySnapshot>& families);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(absl::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(absl::string_view name);

// Label values escape backslash, double quote and newline.
std::string EscapeLabelValue(absl::string_view value);
// HELP text escapes backslash and newline.
std::string EscapeHelp(absl::string_view help);
// Shortest text that reads back as the same double; "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);

}  // namespace shale::metrics
