#pragma once

// The steps PlannedReparentShard and EmergencyReparentShard share
// (reparent.cc): progress and timing, candidate choice, writing the Shard
// record, promotion and repointing. Internal to src/ctl.

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ctl/reparent.h"
#include "ctl/shard_tablets.h"
#include "topo/server.h"

namespace shale::ctl::internal {

// The result under construction, with step timing and progress lines.
// Confined to the reparent's calling thread.
class ReparentRun {
 public:
  ReparentRun(std::string operation, absl::string_view keyspace, absl::string_view shard,
              const ReparentOptions& options);

  // Starts timing a step.
  void Begin() { step_start_ = absl::Now(); }
  // Ends the step started by Begin: recorded in the result and reported.
  void End(const std::string& name, const std::string& detail);
  // A progress line that is not a step.
  void Note(const std::string& line);
  void Warn(const std::string& line);

  // The finished result: message set, total time taken.
  ReparentResult Finish(std::string message);

  ReparentResult& result() { return result_; }
  const ReparentResult& result() const { return result_; }
  const ReparentOptions& options() const { return options_; }
  std::string shard_name() const { return absl::StrCat(result_.keyspace, "/", result_.shard); }

 private:
  const ReparentOptions& options_;
  ReparentResult result_;
  absl::Time step_start_;
};

// The tablet with this alias, or null.
ShardTablet* FindTablet(std::vector<ShardTablet>& tablets, const topo::TabletAlias& alias);

// The tablets that answered and are REPLICA (live type), except `except`.
std::vector<ShardTablet*> EligibleReplicas(std::vector<ShardTablet>& tablets,
                                           const std::string& except);

// The replica with the highest applied seq, ties broken by prefer_cell then
// alias. Null if replicas is empty. With cell_first, every replica in
// prefer_cell ranks above every other (PRS's preference for the primary's
// cell); otherwise the cell only breaks ties (ERS).
ShardTablet* MostAdvanced(const std::vector<ShardTablet*>& replicas,
                          const std::string& prefer_cell, bool cell_first);

// The given candidate checked: a tablet of the shard (NotFound), reachable
// (Unavailable), a REPLICA (FailedPrecondition).
absl::StatusOr<ShardTablet*> CheckNamedCandidate(std::vector<ShardTablet>& tablets,
                                                 const topo::TabletAlias& alias,
                                                 const std::string& shard_name);

// FailedPrecondition listing every tablet: no replica can be promoted.
absl::Status NoCandidate(const std::vector<ShardTablet>& tablets, const std::string& shard_name);

// Writes the Shard record: primary_alias = alias, primary_term = at least
// term (one above the record's term if that is already >= term), start time
// now. Returns the term written.
absl::StatusOr<int64_t> WriteShardPrimary(topo::Server& ts, const ReparentRun& run,
                                          const topo::TabletAlias& alias, int64_t term);

// PromoteReplica(term) on the candidate: the CHANGE_CONFIG position.
absl::StatusOr<tablet::LogPosition> Promote(ShardTablet& candidate, int64_t term,
                                            absl::Duration timeout);

// SetReplicationSource(primary of the Shard record, term, start) on every
// reachable tablet of targets, in parallel; failures and tablets that did
// not answer before become warnings. Returns the aliases repointed.
std::vector<std::string> RepointReplicas(const std::vector<ShardTablet*>& targets, int64_t term,
                                         ReparentRun& run);

// Every tablet of the list but those in except.
std::vector<ShardTablet*> AllBut(std::vector<ShardTablet>& tablets,
                                 const std::vector<const ShardTablet*>& except);

// "3 tablets: zone1-101 PRIMARY seq 5 term 1, ..." for progress lines.
std::string DescribeAll(const std::vector<ShardTablet>& tablets);

// Begins run, locks the shard (the lock reason: options.reason or the
// operation with the shard), runs fn, and unlocks; a failed unlock becomes a
// warning of the result.
absl::StatusOr<ReparentResult> RunUnderShardLock(
    topo::Server& ts, ReparentRun& run, absl::string_view keyspace, absl::string_view shard,
    absl::FunctionRef<absl::StatusOr<ReparentResult>()> fn);

// "zone1-101", or "" for an unset alias.
std::string AliasName(const topodata::TabletAlias& alias);

}  // namespace shale::ctl::internal
