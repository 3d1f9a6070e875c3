#pragma once

// Counter, Gauge and Histogram: the metric kinds a MetricsRegistry hands out.
//
//   Counter* queries = registry.AddCounter("shale_queries_total", "Queries served.");
//   queries->Inc();
//   Histogram* latency = registry.AddHistogram("shale_query_seconds", "Query latency.",
//                                              LatencyBuckets());
//   latency->ObserveDuration(absl::Now() - start);
//
// Ownership: the registry (through a family) owns every metric; callers keep
// the raw pointer it returns, valid until the registry is destroyed.
// Thread-safety: all methods may be called from any thread. The update paths
// are lock-free: Counter::Inc is one relaxed atomic add, Gauge::Set one
// relaxed store, Histogram::Observe a binary search plus two relaxed atomic
// updates (no lock). Readers see each value atomically, but a histogram read
// concurrently with Observe may show a sum that lags its counts by a few
// observations.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/metrics/snapshot.h"

namespace shale::metrics {

// A monotonic count: requests served, bytes written, errors seen.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down: open connections, replication lag.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Sub(double delta) { Add(-delta); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A distribution over fixed buckets chosen at creation (for latencies, in
// seconds). Observe(v) counts v in the first bucket whose upper bound is >= v
// (Prometheus "le" semantics); values above the last bound, and NaN, go to
// the implicit +Inf bucket.
class Histogram {
 public:
  // bounds must satisfy ValidBuckets(); a violation is a programmer error
  // and aborts the process (MetricsRegistry checks first and names the metric).
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  void ObserveDuration(absl::Duration d) { Observe(absl::ToDoubleSeconds(d)); }

  const std::vector<double>& bounds() const { return bounds_; }
  HistogramSnapshot Snapshot() const;

 private:
  const std::vector<double> bounds_;
  // Per-bucket (not cumulative) counts; bounds_.size() + 1 entries, the last
  // one being +Inf.
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// True if bounds is non-empty, finite and strictly increasing.
bool ValidBuckets(const std::vector<double>& bounds);

// 0.5ms .. 10s in 1-2.5-5 steps: the default for request latencies in seconds.
std::vector<double> LatencyBuckets();
// count bounds: start, start*factor, start*factor^2, ... (start > 0, factor > 1).
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// count bounds: start, start+width, start+2*width, ... (width > 0).
std::vector<double> LinearBuckets(double start, double width, int count);

}  // namespace shale::metrics
