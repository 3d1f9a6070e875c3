#pragma once

// TopologyWatcher feeds one cell's tablet records into a HealthCheck
// (DESIGN §5, "Discovery").
//
// It watches the cell's tablets directory (topo::paths::TabletsDir on the
// cell's server) with WatchDir: the watch's first answer is the full state,
// then each record change arrives as it is committed, so a new tablet is
// found at once and nothing is polled. Records that are complete
// (IsCompleteRecord) and in a watched keyspace go to HealthCheck::AddTablet /
// ReplaceTablet; deleted, incomplete or filtered ones to RemoveTablet.
//
// A full re-read (a new WatchDir, whose answer is the whole directory, then
// reconciled with what is known) runs only: at start, every
// Options::safety_refresh as a safety net, and once after a topology outage
// ends. An outage (kError events, a failed re-read) never removes a known
// tablet: the HealthCheck keeps streaming to them meanwhile.
//
// Lifecycle: construct, Start(), Stop() (idempotent; the destructor calls
// it). Owned by the gateway; the topo::Server and the HealthCheck are
// borrowed and must outlive it. Threads: one of its own, which makes every
// topology call and every HealthCheck call; the watch callback only queues
// events. Public methods may be called from any thread.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "discovery/health_check.h"
#include "topo/server.h"

namespace shale::discovery {

struct TopologyWatcherOptions {
  // How often the whole directory is re-read as a safety net.
  absl::Duration safety_refresh = absl::Minutes(5);
  // Keyspaces whose tablets are watched; empty: every keyspace.
  std::vector<std::string> keyspaces;
  // Delays between attempts to (re)start the watch while the topology is down.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(10);
};

struct TopologyWatcherStats {
  int64_t tablets = 0;  // records handed to the HealthCheck and not removed
  int64_t events = 0;   // watch events applied
  int64_t resyncs = 0;  // full re-reads applied
  int64_t errors = 0;   // kError events and failed re-reads
  bool in_outage = false;  // the topology is down as far as the watch knows
};

class TopologyWatcher {
 public:
  TopologyWatcher(topo::Server* ts, std::string cell, HealthCheck* health_check,
                  TopologyWatcherOptions options = {});
  ~TopologyWatcher();
  TopologyWatcher(const TopologyWatcher&) = delete;
  TopologyWatcher& operator=(const TopologyWatcher&) = delete;

  // Starts the thread; the first read happens on it (see WaitForFirstSync).
  void Start();
  void Stop();

  // Asks for a full re-read now (operators, tests).
  void Refresh();
  // Waits until the first full read has been applied. DeadlineExceeded.
  absl::Status WaitForFirstSync(absl::Duration timeout) const;

  const std::string& cell() const { return cell_; }
  TopologyWatcherStats Stats() const;

 private:
  using QueuedEvent = std::pair<uint64_t, topo::WatchEvent>;  // (watch generation, event)

  void Loop();
  // Starts a new watch and reconciles with its full answer; on failure keeps
  // the old watch and everything known, and retries after a backoff.
  void Resync();
  void HandleEvent(const topo::WatchEvent& event);
  void Reconcile(const std::vector<topo::PathValue>& current);
  // The record at path is now value: add, replace or remove the tablet.
  void ApplyValue(const std::string& path, const std::string& value);
  // The tablet of path is gone (deleted, incomplete, filtered out).
  void Forget(const std::string& path);

  topo::Server* const ts_;
  const std::string cell_;
  HealthCheck* const health_check_;
  const TopologyWatcherOptions options_;
  const std::set<std::string> keyspaces_;
  std::thread thread_;

  // Worker thread only.
  std::unique_ptr<topo::WatchHandle> handle_;
  uint64_t current_generation_ = 0;  // generation of handle_'s events
  std::map<std::string, topodata::Tablet> known_;  // path -> record given to the HealthCheck
  Backoff backoff_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  std::deque<QueuedEvent> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t next_generation_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Time resync_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool outage_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TopologyWatcherStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::discovery
