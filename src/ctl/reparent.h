#pragma once

// Primary changes of one shard (DESIGN §4), the operator side:
//
//   PlannedReparentShard    hands the primary role to a healthy replica with
//                           the old primary's help (MigratePrimary), or elects
//                           the first primary of a shard that has none.
//   EmergencyReparentShard  replaces a primary that is gone: promotes the most
//                           advanced reachable replica with a newer term.
//
// Both lock the shard in the topology for their whole run, so two operators
// (or two ctlds) never act on one shard at once, and both fence by term: the
// new primary's term is newer than any term a tablet of the shard knows, and
// the Shard record names it before it is promoted.
//
// Used by `shale ctl` (src/cmd/ctl_reparent_commands.cc) and by ctld's
// automatic failover. Each call is synchronous and confined to its caller's
// thread, except that it calls the tablets in parallel on threads of its own;
// the progress callback is called on the caller's thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/shard_tablets.h"
#include "nlohmann/json.hpp"
#include "topo/server.h"

namespace shale::ctl {

// Receives one line of progress ("locked shard app/0 (3 ms)").
using ProgressFn = std::function<void(const std::string& line)>;

struct ReparentOptions {
  // The tablet to promote. Unset: PRS takes the most caught-up healthy
  // REPLICA, preferring the current primary's cell; ERS the most advanced
  // reachable REPLICA (ties: the old primary's cell, then the lowest alias).
  std::optional<topo::TabletAlias> new_primary;
  // How long to wait for the shard lock.
  absl::Duration lock_timeout = absl::Seconds(30);
  // PRS: how long the candidate may take to catch up with the primary. ERS:
  // how long the chosen tablet may take to catch up with a more advanced one.
  absl::Duration wait_replicas_timeout = absl::Seconds(30);
  // PRS: open interactive transactions may finish within grace; the whole
  // hand-over within migrate_timeout (then writes resume on the old primary).
  absl::Duration grace = absl::Milliseconds(500);
  absl::Duration migrate_timeout = absl::Seconds(10);
  // Every other tablet RPC.
  absl::Duration rpc_timeout = absl::Seconds(10);
  // ERS: the best-effort DemotePrimary of the old primary.
  absl::Duration demote_timeout = absl::Seconds(2);
  // Recorded in the lock node; empty means the operation's name.
  std::string reason;
  // May be null.
  ProgressFn progress;
  // How tablets are dialled; null means DialTablet.
  TabletDialer dial;
  // ERS: called once the shard is locked, with the Shard record read under
  // the lock. A non-empty answer is why the reparent is not needed any more
  // (ctld: the primary changed meanwhile or answers again); the call then
  // returns a result with `skipped` set and changes nothing.
  std::function<std::string(const topodata::Shard&)> skip_if;
};

// One timed step of a reparent.
struct ReparentStep {
  std::string name;
  absl::Duration took;
  std::string detail;
};

// What a reparent did, printed as JSON by `shale ctl` and kept by ctld.
struct ReparentResult {
  std::string operation;  // "PlannedReparentShard" or "EmergencyReparentShard"
  std::string keyspace;
  std::string shard;
  std::string old_primary;  // empty when the shard had none
  int64_t old_term = 0;
  std::string new_primary;  // empty when nothing changed
  int64_t new_term = 0;
  bool changed = false;    // a new primary was made
  std::string skipped;     // non-empty: why nothing was done
  std::string message;     // one line for people
  tablet::LogPosition change_config;  // where the new term starts
  // PRS with a primary (MigratePrimary): the write stall on the old primary,
  // writes it forwarded to the new one, transactions rolled back after grace.
  int64_t stall_us = 0;
  int64_t forwarded = 0;
  int64_t rolled_back = 0;
  std::vector<ReparentStep> steps;
  // Best-effort steps that failed (a replica that could not be repointed).
  std::vector<std::string> warnings;
  absl::Time started;
  absl::Duration took;

  nlohmann::json ToJson() const;
};

// Planned reparent of keyspace/shard. Errors (the shard is then unchanged
// unless the message says otherwise):
//   NotFound            unknown shard, or new_primary is not a tablet of it
//   FailedPrecondition  new_primary is not a REPLICA; no eligible replica
//   Unavailable         the candidate or the current primary does not answer
//   DeadlineExceeded    the shard lock, or the candidate did not catch up
// plus whatever MigratePrimary or PromoteReplica returned.
absl::StatusOr<ReparentResult> PlannedReparentShard(topo::Server& ts, absl::string_view keyspace,
                                                    absl::string_view shard,
                                                    const ReparentOptions& options);

// Emergency reparent of keyspace/shard: the old primary is demoted if it
// answers, every other tablet stops replicating, the chosen one catches up
// with the most advanced reachable tablet, then the Shard record names it
// with a new term, it is promoted, and the others are repointed. Errors as
// for PlannedReparentShard; FailedPrecondition also when the chosen tablet is
// the current primary.
absl::StatusOr<ReparentResult> EmergencyReparentShard(topo::Server& ts, absl::string_view keyspace,
                                                      absl::string_view shard,
                                                      const ReparentOptions& options);

}  // namespace shale::ctl
