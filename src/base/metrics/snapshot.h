#pragma once

// Plain copies of metric values taken at one moment, used by renderers
// (Prometheus text in prometheus.h, JSON in base/http). They hold no pointers
// into the registry, so a snapshot may outlive it and be read from any thread.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace shale::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge" or "histogram", as the Prometheus TYPE line spells it.
absl::string_view MetricTypeName(MetricType type);

struct HistogramSnapshot {
  // Finite upper bounds, strictly increasing; the +Inf bucket is implicit.
  std::vector<double> bounds;
  // cumulative[i] counts observations <= bounds[i]; the last element (index
  // bounds.size()) is the +Inf bucket and equals count.
  std::vector<uint64_t> cumulative;
  uint64_t count = 0;
  double sum = 0;
};

struct SampleSnapshot {
  // One value per label name of the family, in the same order.
  std::vector<std::string> label_values;
  // Counter and gauge value; unused for histograms.
  double value = 0;
  // Histogram data; empty for counters and gauges.
  HistogramSnapshot histogram;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names;
  // Sorted by label values.
  std::vector<SampleSnapshot> samples;
};

}  // namespace shale::metrics
