#pragma once

// SrvKeyspaceWatcher is the gateway's serving graph (DESIGN §5): the
// SrvKeyspace of each (cell, keyspace) it routes with, the global
// RoutingPolicy, and every cell's CellInfo (for its region), all kept in
// memory by watches (RecordWatch), with a change callback so the gateway
// reloads at once.
//
//   - SrvKeyspace (/<cell>/keyspaces/<ks>/SrvKeyspace): watched on first use
//     of (cell, keyspace); later calls are served from memory, no reads.
//   - RoutingPolicy (/global/RoutingPolicy): topo::DefaultRoutingPolicy()
//     while none is stored.
//   - CellInfo (/global/cells/<cell>/CellInfo): one watch of the directory.
// A topology outage keeps every last known value. A watch that cannot be
// started (topology down) is retried in the background with a backoff; the
// defaults (or the error, for a SrvKeyspace) are served meanwhile.
//
// Lifecycle: construct, Start(), use, Stop() (idempotent; the destructor calls
// it). Owned by the gateway; the topo::Server is borrowed and must outlive
// it. Threads: one of its own for retries; change callbacks run on the
// topology's watch threads (or that one), one at a time; every public method
// may be called from any thread, except that a callback must not call Stop.

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/backoff.h"
#include "discovery/record_watch.h"
#include "discovery/subscriber_list.h"
#include "topo/server.h"

namespace shale::discovery {

// What changed, for the callbacks.
struct ServingChange {
  enum class Kind { kSrvKeyspace, kRoutingPolicy, kCellInfo };
  Kind kind = Kind::kSrvKeyspace;
  std::string cell;      // kSrvKeyspace, kCellInfo
  std::string keyspace;  // kSrvKeyspace
};

struct SrvKeyspaceWatcherOptions {
  // Delays between attempts to start a watch while the topology is down.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(10);
};

using CellInfoMap = std::map<std::string, topodata::CellInfo>;

class SrvKeyspaceWatcher {
 public:
  explicit SrvKeyspaceWatcher(topo::Server* ts, SrvKeyspaceWatcherOptions options = {});
  ~SrvKeyspaceWatcher();
  SrvKeyspaceWatcher(const SrvKeyspaceWatcher&) = delete;
  SrvKeyspaceWatcher& operator=(const SrvKeyspaceWatcher&) = delete;

  // Starts the RoutingPolicy and CellInfo watches (in the background if the
  // topology is down) and the retry thread.
  void Start();
  void Stop();

  // The serving graph of keyspace in cell. The first call for a (cell,
  // keyspace) starts its watch; later calls read memory. NotFound when the
  // cell has no SrvKeyspace for it (yet); Unavailable while its watch could
  // not be started; DataLoss for a record that does not parse.
  absl::StatusOr<std::shared_ptr<const topodata::SrvKeyspace>> GetSrvKeyspace(
      absl::string_view cell, absl::string_view keyspace);
  // Never null.
  std::shared_ptr<const topodata::RoutingPolicy> GetRoutingPolicy() const;
  // Every cell's CellInfo. Never null.
  std::shared_ptr<const CellInfoMap> GetCells() const;
  // The cell's region, "" if unknown.
  std::string RegionOf(absl::string_view cell) const;

  // Calls cb after every change (see ServingChange). Returns an id for Unsubscribe.
  int Subscribe(std::function<void(const ServingChange&)> cb);
  void Unsubscribe(int id);

 private:
  using CellKeyspace = std::pair<std::string, std::string>;
  struct SrvEntry {
    SrvEntry(absl::Duration initial, absl::Duration max) : backoff(initial, max) {}
    std::unique_ptr<RecordWatch> watch;  // null until started
    absl::StatusOr<std::shared_ptr<const topodata::SrvKeyspace>> value =
        absl::UnavailableError("not read yet");
    absl::Time retry_at = absl::InfinitePast();
    Backoff backoff;
  };

  // Retries failed watch starts, the first at next.
  void Loop(absl::Time next);
  // Starts every watch that is due, then tells the subscribers; returns when
  // to try again.
  absl::Time StartDueWatches() ABSL_LOCKS_EXCLUDED(start_mu_);
  absl::Time StartDueWatchesLocked(std::vector<ServingChange>* changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(start_mu_);
  // The Start* functions run under start_mu_ and add what they loaded to
  // *changes, for the caller to announce once start_mu_ is released (a
  // subscriber may call GetSrvKeyspace).
  absl::Status StartPolicyWatch(std::vector<ServingChange>* changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(start_mu_);
  absl::Status StartCellsWatch(std::vector<ServingChange>* changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(start_mu_);
  // Starts (cell, keyspace)'s watch; the result lands in srv_[key].
  void StartSrvWatch(const CellKeyspace& key, std::vector<ServingChange>* changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(start_mu_);
  // Re-reads a watch's values into the parsed forms, under mu_.
  void LoadPolicy() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoadCells() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoadSrv(SrvEntry& entry, const CellKeyspace& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Changed(ServingChange change);

  topo::Server* const ts_;
  const SrvKeyspaceWatcherOptions options_;
  SubscriberList<ServingChange> subscribers_;
  absl::Mutex start_mu_;  // serialises watch starts (topology reads) without blocking readers
  std::thread thread_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  std::unique_ptr<RecordWatch> policy_watch_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<RecordWatch> cells_watch_ ABSL_GUARDED_BY(mu_);
  Backoff global_backoff_ ABSL_GUARDED_BY(mu_);
  absl::Time global_retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::shared_ptr<const topodata::RoutingPolicy> policy_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const CellInfoMap> cells_ ABSL_GUARDED_BY(mu_);
  std::map<CellKeyspace, SrvEntry> srv_ ABSL_GUARDED_BY(mu_);
  bool retry_needed_ ABSL_GUARDED_BY(mu_) = false;  // wakes the thread
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shale::discovery
