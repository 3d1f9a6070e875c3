#pragma once

// Choosing a tablet for (keyspace, shard, tablet type) from the gateway's
// cell (DESIGN §5, "Choosing a tablet").
//
//   - PRIMARY: HealthCheck::GetPrimary, wherever the primary is.
//   - REPLICA / RDONLY: the RoutingPolicy's rules in order. A rule's
//     candidates are the serving tablets in its scope (LOCAL_CELL: the
//     gateway's cell; SAME_REGION: cells whose CellInfo.region is the
//     gateway's; ANY_CELL) lagging at most max_lag_seconds; the rule applies
//     only with at least min_serving_tablets (and at least one) candidates.
//     A tablet lagging over never_above_lag_seconds (0: no limit) is never a
//     candidate. When no rule applies, any serving tablet under never_above
//     will do, those of the local cell first.
// One candidate is taken at random. The chosen tablet's cell comes back too:
// the gateway routes with that cell's SrvKeyspace.
//
// The rule logic is the pure functions SelectCandidates / DescribeNoTablet;
// TabletPicker binds them to a HealthCheck and a SrvKeyspaceWatcher.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "discovery/health_check.h"
#include "discovery/srv_keyspace_watcher.h"
#include "discovery/tablet_health.h"

namespace shale::discovery {

// Where the gateway stands, for the policy's scopes.
struct RoutingView {
  std::string local_cell;
  const CellInfoMap* cells = nullptr;  // regions; null: no region known
  const topodata::RoutingPolicy* policy = nullptr;  // required
};

struct Candidates {
  std::vector<TabletHealthPtr> tablets;  // empty: nothing can be used
  int rule = -1;  // index of the rule that applied; -1: the fallback (or none)
};

// The candidates among tablets (any, serving or not) under view's policy.
Candidates SelectCandidates(const std::vector<TabletHealthPtr>& tablets, const RoutingView& view);

// Why no tablet of target can be used, e.g. "no serving REPLICA tablet for
// app/-80: 2 known, 1 lagging 3h (over 2h), 1 not serving".
std::string DescribeNoTablet(const TargetKey& target, const std::vector<TabletHealthPtr>& tablets,
                             const topodata::RoutingPolicy& policy);

struct PickedTablet {
  TabletHealthPtr tablet;
  std::string cell;  // the tablet's cell: route with its SrvKeyspace
};

// Lifecycle: construct after the HealthCheck and SrvKeyspaceWatcher it
// borrows (which must outlive it); no threads. Thread-safe.
class TabletPicker {
 public:
  // serving_graph may be null: then the default policy and no regions.
  TabletPicker(std::string local_cell, const HealthCheck* health_check,
               const SrvKeyspaceWatcher* serving_graph);

  // Unavailable naming the target and what was seen when no tablet can be
  // used; InvalidArgument for a type that serves no queries.
  absl::StatusOr<PickedTablet> Pick(absl::string_view keyspace, absl::string_view shard,
                                    topodata::TabletType type);

  const std::string& local_cell() const { return local_cell_; }

 private:
  const std::string local_cell_;
  const HealthCheck* const health_check_;
  const SrvKeyspaceWatcher* const serving_graph_;
  const std::shared_ptr<const topodata::RoutingPolicy> default_policy_;
  absl::Mutex gen_mu_;
  absl::BitGen gen_ ABSL_GUARDED_BY(gen_mu_);
};

}  // namespace shale::discovery
