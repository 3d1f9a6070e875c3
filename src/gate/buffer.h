#pragma once

// PrimaryBuffer holds primary requests while a shard's primary is changing
// (DESIGN §5, "Buffering"), planned or by failover, and releases them to the
// new primary once discovery reports it, within --buffer-window of the
// moment the request first failed. It holds at most max_buffered requests at
// once; beyond that a request fails at once rather than queue without bound.
//
// Owned by the Gateway. Thread-safe: session threads Wait(), discovery's
// health thread calls Notify().
//
// /metrics: shale_gate_buffer_requests_total{result="released|timeout|overflow"},
// shale_gate_buffered_requests (now), shale_gate_buffer_wait_seconds (histogram).

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/metrics/registry.h"
#include "discovery/tablet_health.h"

namespace shale::gate {

class PrimaryBuffer {
 public:
  struct Options {
    absl::Duration window = absl::Seconds(10);
    int max_buffered = 1000;
  };
  // Returns the tablet to send to once there is one, or null to keep waiting.
  using Probe = std::function<discovery::TabletHealthPtr()>;

  PrimaryBuffer(Options options, metrics::MetricsRegistry* registry);

  // Holds the calling request until probe() yields a tablet or the window
  // (counted from since) passes. Unavailable (SQLSTATE 08006) naming the
  // shard and the window on timeout; ResourceExhausted (53300) when the
  // buffer is full.
  absl::StatusOr<discovery::TabletHealthPtr> Wait(const std::string& shard_name, absl::Time since,
                                                  const Probe& probe);

  // Holds the calling request in the buffer (counted against max_buffered
  // and in the metrics like Wait) while wait(deadline) blocks; wait returns
  // true once the request may go on, false at the deadline (since + window).
  // For a statement a resharded shard refused: it waits for the gateway's
  // SrvKeyspace to change. Errors as Wait, the timeout naming `what`.
  absl::Status Hold(const std::string& what, absl::Time since,
                    const std::function<bool(absl::Time deadline)>& wait);

  // Wakes every waiter to probe again: a tablet's health changed.
  void Notify();

  absl::Duration window() const { return options_.window; }
  int buffered() const;

 private:
  // Counts the request in (ResourceExhausted when full), runs held(deadline)
  // off the fiber, counts it out; true when held() was.
  absl::StatusOr<bool> Buffered(const std::string& shard_name, absl::Time since,
                                const std::function<bool(absl::Time deadline)>& held);

  const Options options_;
  metrics::Counter* released_;
  metrics::Counter* timed_out_;
  metrics::Counter* overflowed_;
  metrics::Gauge* buffered_gauge_;
  metrics::Histogram* wait_seconds_;

  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  // mu_ protects the following.
  int buffered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shale::gate
