#pragma once

// ClusterWatcher: what ctld's dashboard shows, kept current without polling.
//
// One topology WatchDir of /global gives the keyspaces, the Shard records
// (primary, term), the cells and the ctld leader record; each change of a
// shard's primary or term seen after the first read is kept as a
// PrimaryChange (newest first, bounded). For the tablets it reuses the
// gateway's discovery (DESIGN §5): one discovery::TopologyWatcher per cell
// feeds a discovery::HealthCheck, which keeps a StreamHealth stream to every
// tablet (type, serving, replication lag, log position, errors). ctld sits
// above discovery in DESIGN §7's layering, so it may use it.
//
// A topology outage keeps everything known (the error is shown); the watch
// reports the current state once the topology is back. A watch that cannot
// be started (topology down at startup) is retried by the worker thread,
// which also starts the TopologyWatcher of every cell that appears.
//
// Lifecycle: construct, Start(), Stop() (idempotent; the destructor calls
// it). Owned by ctld's main (through the Dashboard's user); the topo::Server
// is borrowed and must outlive it. Threads: one worker of its own, the
// HealthCheck's and TopologyWatchers' threads, the topology watch callback
// (which only updates the model under mu_); View() may be called from any
// thread.

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ctld/cluster_view.h"
#include "discovery/health_check.h"
#include "discovery/topology_watcher.h"
#include "topo/server.h"

namespace shale::ctld {

struct ClusterWatcherOptions {
  discovery::HealthCheckOptions health;
  discovery::TopologyWatcherOptions topology;
  // Primary changes kept.
  size_t change_limit = 50;
  // Pause between attempts to start the topology watch.
  absl::Duration retry_pause = absl::Seconds(1);
};

class ClusterWatcher {
 public:
  // ts is borrowed and must outlive the watcher.
  ClusterWatcher(topo::Server* ts, ClusterWatcherOptions options = {});
  ~ClusterWatcher();
  ClusterWatcher(const ClusterWatcher&) = delete;
  ClusterWatcher& operator=(const ClusterWatcher&) = delete;

  // Starts the health check and the worker, which starts the watches.
  void Start();
  void Stop();

  // The topology and health parts of the view (keyspaces, shards, tablets,
  // primary changes, leader record, topology error); now is set.
  ClusterView View() const;
  // Waits until the first read of /global was applied. DeadlineExceeded.
  absl::Status WaitForFirstSync(absl::Duration timeout) const;

 private:
  void Loop();
  // Starts the watch of /global and applies its first answer.
  absl::Status StartWatch();
  void OnEvent(const topo::WatchEvent& event);
  // Applies one value (or its deletion) at path; with record_changes, a new
  // primary or term is kept as a PrimaryChange.
  void Apply(const std::string& path, const std::string* value, bool record_changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  topo::Server* const ts_;
  const ClusterWatcherOptions options_;
  discovery::HealthCheck health_;
  std::thread thread_;

  // Worker thread only (and Stop after joining it).
  std::unique_ptr<topo::WatchHandle> watch_;
  std::map<std::string, std::unique_ptr<discovery::TopologyWatcher>> cell_watchers_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, topodata::Keyspace> keyspaces_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, topodata::Shard> shards_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> cells_ ABSL_GUARDED_BY(mu_);
  size_t cells_watched_ ABSL_GUARDED_BY(mu_) = 0;  // cells_ has more: start watchers
  std::optional<topodata::CtldLeader> leader_ ABSL_GUARDED_BY(mu_);
  std::deque<PrimaryChange> changes_ ABSL_GUARDED_BY(mu_);  // newest first
  // Paths reported by the watch before its first answer was applied.
  std::set<std::string> early_paths_ ABSL_GUARDED_BY(mu_);
  std::string topology_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::ctld
