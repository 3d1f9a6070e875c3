#include "base/http/vars_json.h"

#include <cmath>

#include "base/metrics/prometheus.h"

namespace shale::http {
namespace {

nlohmann::json Number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

nlohmann::json SampleToJson(const metrics::FamilySnapshot& family,
                            const metrics::SampleSnapshot& sample) {
  nlohmann::json labels = nlohmann::json::object();
  for (size_t i = 0; i < family.label_names.size() && i < sample.label_values.size(); ++i) {
    labels[family.label_names[i]] = sample.label_values[i];
  }
  nlohmann::json out = {{"labels", std::move(labels)}};
  if (family.type != metrics::MetricType::kHistogram) {
    out["value"] = Number(sample.value);
    return out;
  }
  const metrics::HistogramSnapshot& h = sample.histogram;
  out["count"] = h.count;
  out["sum"] = Number(h.sum);
  nlohmann::json buckets = nlohmann::json::array();
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    buckets.push_back(
        {{"le", i < h.bounds.size() ? metrics::FormatValue(h.bounds[i]) : std::string("+Inf")},
         {"count", h.cumulative[i]}});
  }
  out["buckets"] = std::move(buckets);
  return out;
}

}  // namespace

nlohmann::json MetricsToJson(const std::vector<metrics::FamilySnapshot>& families) {
  nlohmann::json out = nlohmann::json::object();
  for (const metrics::FamilySnapshot& family : families) {
    nlohmann::json samples = nlohmann::json::array();
    for (const metrics::SampleSnapshot& sample : family.samples) {
      samples.push_back(SampleToJson(family, sample));
    }
    out[family.name] = {{"type", std::string(metrics::MetricTypeName(family.type))},
                        {"help", family.help},
                        {"samples", std::move(samples)}};
  }
  return out;
}

}  // namespace shale::http
