#pragma once

// FailoverController: ctld's automatic failover (DESIGN §4 "Emergency
// reparent and auto-failover").
//
// It discovers every keyspace and shard in the topology (re-listed every
// discovery_interval), watches each Shard record (a topology Watch) to know
// the primary, and keeps a PrimaryMonitor on each primary. When a primary
// has been down for failover_after, it runs ctl::EmergencyReparentShard for
// that shard on a thread of its own. The shard lock taken by the reparent
// keeps two ctlds (or a ctld and an operator) from acting at once; once it
// holds the lock, the controller re-reads the Shard record and does nothing
// if the primary changed meanwhile or answers again. A failed attempt is
// retried after retry_interval. Every attempt lands in a bounded history.
//
// Lifecycle: construct, Start(), Stop() (idempotent; the destructor calls
// it); Start() may run again after Stop() returned: ctld runs the controller
// only while it is the leader (LeaderElection), and the history stays across
// its terms. The topology server and the metrics registry are borrowed and must
// outlive the controller. Thread-safe: one loop thread, one thread per
// running failover, the monitors' threads; StatusJson(), History() and
// StatusHtml() may be called from any thread (the HTTP workers).

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/metrics/registry.h"
#include "ctl/shard_tablets.h"
#include "ctld/primary_monitor.h"
#include "ctld/reparent_history.h"
#include "nlohmann/json.hpp"
#include "topo/conn.h"
#include "topo/server.h"

namespace shale::ctld {

struct FailoverOptions {
  // A primary down this long is replaced.
  absl::Duration failover_after = absl::Milliseconds(1500);
  // How often keyspaces and shards are re-listed (primaries come from watches).
  absl::Duration discovery_interval = absl::Seconds(5);
  // After a failed failover of a shard, wait this long before the next try.
  absl::Duration retry_interval = absl::Seconds(5);
  // How long a failover waits for the shard lock.
  absl::Duration lock_timeout = absl::Seconds(15);
  // How often the loop looks at the monitors.
  absl::Duration tick = absl::Milliseconds(50);
  // Failovers kept in the history.
  size_t history_limit = 100;
  // How tablets are dialled; null: ctl::DialTablet.
  ctl::TabletDialer dial;
  // Borrowed; may be null (no metrics).
  metrics::MetricsRegistry* metrics = nullptr;
};

class FailoverController {
 public:
  // ts is borrowed and must outlive the controller.
  FailoverController(topo::Server* ts, FailoverOptions options);
  ~FailoverController();
  FailoverController(const FailoverController&) = delete;
  FailoverController& operator=(const FailoverController&) = delete;

  // Runs the first discovery (an unreachable topology is retried by the
  // loop, not an error) and starts the loop. FailedPrecondition if running.
  absl::Status Start();
  // Stops the loop, waits for running failovers, stops every monitor. A
  // second concurrent call returns at once.
  void Stop();
  // Between Start() and Stop().
  bool running() const;

  // {"failover_after_ms", "shards": [...], "history": [...]}.
  nlohmann::json StatusJson() const;
  // The /debug/status section: shards and primaries, then recent failovers.
  std::string StatusHtml() const;
  const ReparentHistory& history() const { return history_; }

 private:
  // One watched shard. keyspace and name never change; the rest is guarded
  // by mu_, except `watch` (loop thread only) and `failover` (started and
  // joined by the loop thread and Stop).
  struct Shard {
    Shard(std::string ks, std::string shard) : keyspace(std::move(ks)), name(std::move(shard)) {}
    std::string key() const { return keyspace + "/" + name; }

    const std::string keyspace;
    const std::string name;
    bool have_record = false;
    topodata::Shard record;
    std::unique_ptr<PrimaryMonitor> monitor;
    bool failover_running = false;
    absl::Time next_attempt = absl::InfinitePast();
    std::unique_ptr<topo::WatchHandle> watch;
    std::thread failover;
  };

  void Loop();
  // Lists keyspaces and shards; adds watches for new shards, drops gone ones.
  void Discover();
  // Starts the topology watch of a shard's record (or reads it once).
  void WatchShard(Shard* s);
  // Matches each shard's monitor to the primary its record names.
  void SyncMonitors();
  // Starts a failover for every shard whose primary is down long enough.
  void CheckFailovers();
  void RunFailover(Shard* s, topo::TabletAlias primary, int64_t term, absl::Duration down_for,
                   std::string trigger);
  // Whether the shard's monitor of alias has heard from it since it went down
  // (it keeps pinging while the failover waits for the lock).
  bool Answers(Shard* s, const topo::TabletAlias& alias);
  void RecordOutcome(ReparentEvent event);
  // Joins a shard's failover, drops its watch, stops its monitor; without mu_.
  static void Dispose(std::unique_ptr<Shard>& s);

  topo::Server* const ts_;
  const FailoverOptions options_;
  const PrimaryMonitorOptions monitor_options_;
  ReparentHistory history_;
  metrics::CounterFamily* failovers_ = nullptr;      // by outcome
  metrics::Histogram* failover_seconds_ = nullptr;   // down to promoted
  std::thread loop_;

  mutable absl::Mutex mu_;
  // mu_ protects the following. Shard entries are created and erased by the
  // loop thread only; watches and failover threads touch their own entry's
  // fields under mu_.
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::unique_ptr<Shard>> shards_ ABSL_GUARDED_BY(mu_);  // by "ks/shard"
  absl::Time next_discovery_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string discovery_error_ ABSL_GUARDED_BY(mu_);
  bool shards_changed_ ABSL_GUARDED_BY(mu_) = false;  // a watch reported a change
};

}  // namespace shale::ctld
