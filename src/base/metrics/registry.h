#pragma once

// MetricsRegistry: the set of metrics one process exports on /metrics and
// /debug/vars. There is no global registry: the process owner (tablet, gate,
// ctld main) creates one, passes a pointer down to the components that count
// things, and hands it to the StatusServer (base/http) that renders it.
//
//   MetricsRegistry registry;
//   CounterFamily* queries = registry.AddCounterFamily(
//       "shale_queries_total", "Queries served, by statement type.", {"type"});
//   Counter* selects = queries->WithLabels({"select"});   // cache it on hot paths
//   selects->Inc();
//   RETURN_IF_ERROR(registry.AddCallbackGauge("shale_open_txns", "Open transactions.",
//                                             [&engine] { return engine.OpenTxns(); }));
//   std::string text = registry.RenderPrometheus();
//
// Lifecycle and ownership: metrics live as long as the registry; the Counter*,
// Gauge*, Histogram* and family pointers it returns stay valid until it is
// destroyed. Callback metrics borrow whatever their callback captures: remove
// them (RemoveCallback) before that state dies.
//
// Thread-safety: every method may be called from any thread. Updating a metric
// takes no lock (see metric.h). WithLabels takes the family's lock to find or
// create the child, so hot paths should keep the pointer it returns. Snapshot
// and RenderPrometheus hold the registry's reader lock while they call the
// callbacks, so RemoveCallback waits for a scrape in progress; callbacks must
// therefore not call into the registry themselves.
//
// Misuse that can only be a programmer error (a malformed metric or label
// name, a wrong number of label values, re-registering a name with another
// type, label set or buckets) prints a message and aborts the process.

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "base/metrics/metric.h"
#include "base/metrics/snapshot.h"

namespace shale::metrics {

// Name, help, type and label names of one metric, plus its children (one per
// combination of label values). Owned by the MetricsRegistry.
class MetricFamilyBase {
 public:
  MetricFamilyBase(std::string name, std::string help, MetricType type,
                   std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)) {}
  virtual ~MetricFamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Values of every child, sorted by label values.
  virtual FamilySnapshot Snapshot() const = 0;
  // True for families whose values come from a callback.
  virtual bool is_callback() const { return false; }

 protected:
  FamilySnapshot EmptySnapshot() const;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// A labelled family of Counters, Gauges or Histograms. Children are created
// on first use of their label values and live as long as the registry.
template <typename T>
class MetricFamily : public MetricFamilyBase {
 public:
  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names, std::vector<double> bounds)
      : MetricFamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // The child for these label values, one per label name in order; aborts if
  // the count differs.
  T* WithLabels(std::initializer_list<absl::string_view> values);
  T* WithLabels(absl::Span<const std::string> values);

  // Histogram bounds (empty for counters and gauges).
  const std::vector<double>& bounds() const { return bounds_; }

  FamilySnapshot Snapshot() const override;

 private:
  T* Find(const std::vector<std::string>& values);

  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::vector<std::string>, std::unique_ptr<T>> children_ ABSL_GUARDED_BY(mu_);
};

extern template class MetricFamily<Counter>;
extern template class MetricFamily<Gauge>;
extern template class MetricFamily<Histogram>;

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Get-or-create: asking again for the same name with the same type, label
  // names (and buckets) returns the same object; the first help text wins.
  Counter* AddCounter(absl::string_view name, absl::string_view help);
  CounterFamily* AddCounterFamily(absl::string_view name, absl::string_view help,
                                  std::vector<std::string> label_names);
  Gauge* AddGauge(absl::string_view name, absl::string_view help);
  GaugeFamily* AddGaugeFamily(absl::string_view name, absl::string_view help,
                              std::vector<std::string> label_names);
  // bounds must satisfy ValidBuckets() (e.g. LatencyBuckets()).
  Histogram* AddHistogram(absl::string_view name, absl::string_view help,
                          std::vector<double> bounds);
  HistogramFamily* AddHistogramFamily(absl::string_view name, absl::string_view help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> bounds);

  // A gauge (or counter) read by calling fn at every scrape, on the scraping
  // thread. InvalidArgument for a malformed name or an empty fn; AlreadyExists
  // if the name is taken.
  absl::Status AddCallbackGauge(absl::string_view name, absl::string_view help,
                                std::function<double()> fn);
  absl::Status AddCallbackCounter(absl::string_view name, absl::string_view help,
                                  std::function<double()> fn);
  // Removes a callback metric; returns once no scrape is calling it. NotFound
  // if there is no metric with that name; FailedPrecondition if the name is
  // not a callback metric (those cannot be removed: callers hold pointers).
  absl::Status RemoveCallback(absl::string_view name);

  // All families, sorted by name.
  std::vector<FamilySnapshot> Snapshot() const;
  // Snapshot() in the Prometheus text format (see prometheus.h).
  std::string RenderPrometheus() const;

 private:
  template <typename T>
  MetricFamily<T>* GetOrCreate(absl::string_view name, absl::string_view help, MetricType type,
                               std::vector<std::string> label_names, std::vector<double> bounds);
  absl::Status AddCallback(absl::string_view name, absl::string_view help, MetricType type,
                           std::function<double()> fn);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamilyBase>, std::less<>> families_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::metrics
