#pragma once

// The topology side of `shale local up`: the records a local cluster needs
// (cells, the keyspace, its shards), created only when missing so that a
// restarted cluster keeps its own, and the first primary of each shard.
// Free functions on a topo::Server the caller owns; confined to the caller's
// thread (reparents probe tablets on threads of their own).

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "local/cluster_plan.h"
#include "topo/server.h"

namespace shale::local {

// Opens the plan's topology, retrying an unreachable server until deadline;
// a missing sqlite file is created only when create_if_missing. Errors:
// OpenConn's (Unavailable when the deadline passed).
absl::StatusOr<std::unique_ptr<topo::Server>> OpenTopology(const std::string& address,
                                                           absl::Time deadline,
                                                           bool create_if_missing = true);

// Creates whatever of the cells, the keyspace (hash-sharded by `id`,
// semi_sync when it has replicas) and its shards does not exist yet; say
// gets one line per record created. An existing keyspace is left as it is.
absl::Status EnsureRecords(topo::Server& ts, const ClusterPlan& plan,
                           const std::function<void(const std::string&)>& say);

// Elects the first primary of a shard that has none (PlannedReparentShard
// with its primary-eligible tablet). A shard that has a primary is left to
// the tablets and ctld. Returns whether it elected one.
absl::StatusOr<bool> ElectIfNoPrimary(topo::Server& ts, const ClusterPlan& plan,
                                      const std::string& shard);

}  // namespace shale::local
