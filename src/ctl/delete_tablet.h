#pragma once

// DeleteTablet: removes a tablet's record from the topology, for
// `shale ctl DeleteTablet` (a retired tablet, or a record that no longer
// matches its tablet's flags; see tablet/startup.cc).

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "topo/server.h"

namespace shale::ctl {

struct DeleteTabletOptions {
  // Also delete the tablet the Shard record names as primary; the Shard record
  // then names no primary (its term is kept, so the next primary's is newer).
  bool allow_primary = false;
  absl::Duration lock_timeout = absl::Seconds(30);  // of the shard lock
};

// What DeleteTablet did.
struct DeleteTabletResult {
  std::string alias;
  std::string keyspace;  // of the deleted record
  std::string shard;
  bool removed_from_shard_replication = false;  // the cell's ShardReplication listed it
  bool cleared_shard_primary = false;           // it was the Shard record's primary
};

// Deletes the Tablet record of alias and removes alias from its cell's
// ShardReplication record of its shard. While the tablet's Shard record
// exists, this holds the shard lock, so it does not race a reparent.
// It does not stop the tablet process: a running tablet writes its record
// again on its next state change, so stop it first.
// Errors: NotFound when no record exists for alias (or its cell is unknown);
// FailedPrecondition when the Shard record names it as primary and
// !options.allow_primary (nothing is changed then); DeadlineExceeded when the
// shard lock is not free within options.lock_timeout.
absl::StatusOr<DeleteTabletResult> DeleteTablet(topo::Server& ts, const topo::TabletAlias& alias,
                                                const DeleteTabletOptions& options);

}  // namespace shale::ctl
