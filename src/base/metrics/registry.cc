#include "base/metrics/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/metrics/prometheus.h"

namespace shale::metrics {
namespace {

[[noreturn]] void Die(absl::string_view message) {
  std::fprintf(stderr, "metrics: %.*s\n", static_cast<int>(message.size()), message.data());
  std::abort();
}

template <typename T>
std::unique_ptr<T> MakeChild(const std::vector<double>& bounds) {
  return std::make_unique<T>();
}
template <>
std::unique_ptr<Histogram> MakeChild<Histogram>(const std::vector<double>& bounds) {
  return std::make_unique<Histogram>(bounds);
}

void Fill(const Counter& c, SampleSnapshot* s) { s->value = static_cast<double>(c.Value()); }
void Fill(const Gauge& g, SampleSnapshot* s) { s->value = g.Value(); }
void Fill(const Histogram& h, SampleSnapshot* s) { s->histogram = h.Snapshot(); }

void CheckNames(absl::string_view name, const std::vector<std::string>& label_names,
                MetricType type) {
  if (!IsValidMetricName(name)) Die(absl::StrCat("invalid metric name \"", name, "\""));
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& label : label_names) {
    if (!IsValidLabelName(label)) {
      Die(absl::StrCat(name, ": invalid label name \"", label, "\""));
    }
    if (!seen.insert(label).second) Die(absl::StrCat(name, ": duplicate label \"", label, "\""));
    if (type == MetricType::kHistogram && label == "le") {
      Die(absl::StrCat(name, ": a histogram cannot have a label named \"le\""));
    }
  }
}

// A metric whose single value comes from a callback at scrape time.
class CallbackFamily : public MetricFamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, MetricType type, std::function<double()> fn)
      : MetricFamilyBase(std::move(name), std::move(help), type, {}), fn_(std::move(fn)) {}

  FamilySnapshot Snapshot() const override {
    FamilySnapshot snap = EmptySnapshot();
    SampleSnapshot sample;
    sample.value = fn_();
    snap.samples.push_back(std::move(sample));
    return snap;
  }
  bool is_callback() const override { return true; }

 private:
  const std::function<double()> fn_;
};

}  // namespace

FamilySnapshot MetricFamilyBase::EmptySnapshot() const {
  FamilySnapshot snap;
  snap.name = name_;
  snap.help = help_;
  snap.type = type_;
  snap.label_names = label_names_;
  return snap;
}

template <typename T>
T* MetricFamily<T>::WithLabels(std::initializer_list<absl::string_view> values) {
  std::vector<std::string> key;
  key.reserve(values.size());
  for (absl::string_view v : values) key.emplace_back(v);
  return Find(key);
}

template <typename T>
T* MetricFamily<T>::WithLabels(absl::Span<const std::string> values) {
  return Find(std::vector<std::string>(values.begin(), values.end()));
}

template <typename T>
T* MetricFamily<T>::Find(const std::vector<std::string>& values) {
  if (values.size() != label_names().size()) {
    Die(absl::StrCat(name(), ": got ", values.size(), " label values for labels (",
                     absl::StrJoin(label_names(), ","), ")"));
  }
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<T>& child = children_[values];
  if (child == nullptr) child = MakeChild<T>(bounds_);
  return child.get();
}

template <typename T>
FamilySnapshot MetricFamily<T>::Snapshot() const {
  FamilySnapshot snap = EmptySnapshot();
  {
    absl::ReaderMutexLock lock(&mu_);
    snap.samples.reserve(children_.size());
    for (const auto& [values, child] : children_) {
      SampleSnapshot sample;
      sample.label_values = values;
      Fill(*child, &sample);
      snap.samples.push_back(std::move(sample));
    }
  }
  std::sort(snap.samples.begin(), snap.samples.end(),
            [](const SampleSnapshot& a, const SampleSnapshot& b) {
              return a.label_values < b.label_values;
            });
  return snap;
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

template <typename T>
MetricFamily<T>* MetricsRegistry::GetOrCreate(absl::string_view name, absl::string_view help,
                                              MetricType type, std::vector<std::string> label_names,
                                              std::vector<double> bounds) {
  CheckNames(name, label_names, type);
  if (type == MetricType::kHistogram && !ValidBuckets(bounds)) {
    Die(absl::StrCat(name, ": histogram buckets must be non-empty, finite and increasing"));
  }
  absl::MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<MetricFamily<T>>(std::string(name), std::string(help), type,
                                                    std::move(label_names), std::move(bounds));
    MetricFamily<T>* result = family.get();
    families_.emplace(std::string(name), std::move(family));
    return result;
  }
  MetricFamilyBase* existing = it->second.get();
  if (existing->is_callback() || existing->type() != type ||
      existing->label_names() != label_names) {
    Die(absl::StrCat(name, ": already registered as a ", existing->is_callback() ? "callback " : "",
                     MetricTypeName(existing->type()), " with labels (",
                     absl::StrJoin(existing->label_names(), ","), ")"));
  }
  auto* family = static_cast<MetricFamily<T>*>(existing);
  if (family->bounds() != bounds)
    Die(absl::StrCat(name, ": already registered with other buckets"));
  return family;
}

Counter* MetricsRegistry::AddCounter(absl::string_view name, absl::string_view help) {
  return AddCounterFamily(name, help, {})->WithLabels({});
}

CounterFamily* MetricsRegistry::AddCounterFamily(absl::string_view name, absl::string_view help,
                                                 std::vector<std::string> label_names) {
  return GetOrCreate<Counter>(name, help, MetricType::kCounter, std::move(label_names), {});
}

Gauge* MetricsRegistry::AddGauge(absl::string_view name, absl::string_view help) {
  return AddGaugeFamily(name, help, {})->WithLabels({});
}

GaugeFamily* MetricsRegistry::AddGaugeFamily(absl::string_view name, absl::string_view help,
                                             std::vector<std::string> label_names) {
  return GetOrCreate<Gauge>(name, help, MetricType::kGauge, std::move(label_names), {});
}

Histogram* MetricsRegistry::AddHistogram(absl::string_view name, absl::string_view help,
                                         std::vector<double> bounds) {
  return AddHistogramFamily(name, help, {}, std::move(bounds))->WithLabels({});
}

HistogramFamily* MetricsRegistry::AddHistogramFamily(absl::string_view name, absl::string_view help,
                                                     std::vector<std::string> label_names,
                                                     std::vector<double> bounds) {
  return GetOrCreate<Histogram>(name, help, MetricType::kHistogram, std::move(label_names),
                                std::move(bounds));
}

absl::Status MetricsRegistry::AddCallbackGauge(absl::string_view name, absl::string_view help,
                                               std::function<double()> fn) {
  return AddCallback(name, help, MetricType::kGauge, std::move(fn));
}

absl::Status MetricsRegistry::AddCallbackCounter(absl::string_view name, absl::string_view help,
                                                 std::function<double()> fn) {
  return AddCallback(name, help, MetricType::kCounter, std::move(fn));
}

absl::Status MetricsRegistry::AddCallback(absl::string_view name, absl::string_view help,
                                          MetricType type, std::function<double()> fn) {
  if (!IsValidMetricName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid metric name \"", name, "\""));
  }
  if (!fn) return absl::InvalidArgumentError(absl::StrCat(name, ": empty callback"));
  absl::MutexLock lock(&mu_);
  if (families_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("metric ", name, " already exists"));
  }
  families_.emplace(
      std::string(name),
      std::make_unique<CallbackFamily>(std::string(name), std::string(help), type, std::move(fn)));
  return absl::OkStatus();
}

absl::Status MetricsRegistry::RemoveCallback(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return absl::NotFoundError(absl::StrCat("no metric ", name));
  if (!it->second->is_callback()) {
    return absl::FailedPreconditionError(absl::StrCat("metric ", name, " is not a callback"));
  }
  families_.erase(it);
  return absl::OkStatus();
}

std::vector<FamilySnapshot> MetricsRegistry::Snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<FamilySnapshot> result;
  result.reserve(families_.size());
  for (const auto& [name, family] : families_) result.push_back(family->Snapshot());
  return result;
}

std::string MetricsRegistry::RenderPrometheus() const { return RenderPrometheusText(Snapshot()); }

}  // namespace shale::metrics
