// EmergencyReparentShard (DESIGN §4 "Emergency reparent and auto-failover"):
// replace a primary that is gone, without its help.

#include <algorithm>

#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ctl/reparent.h"
#include "ctl/reparent_steps.h"
#include "tablet/proto_time.h"

namespace shale::ctl {
namespace {

using internal::ReparentRun;

constexpr char kOperation[] = "EmergencyReparentShard";

// Best effort: a reachable old primary stops taking writes. Its error (it is
// usually gone) only marks it unreachable.
void DemoteOldPrimary(ReparentRun& run, ShardTablet& old) {
  run.Begin();
  if (!old.reachable()) {
    run.End("demote old primary", absl::StrCat(old.name(), " skipped: ", old.reach.message()));
    return;
  }
  tablet::TabletClient& c = *old.client;
  absl::StatusOr<tablet::DemotePrimaryResponse> r =
      c.Call(c.manager(), &tablet::TabletManager::Stub::DemotePrimary,
             tablet::DemotePrimaryRequest(), run.options().demote_timeout);
  if (!r.ok()) {
    old.reach = r.status();
    run.End("demote old primary",
            absl::StrCat(old.name(), " does not answer: ", r.status().message()));
    return;
  }
  run.End("demote old primary",
          absl::StrCat(old.name(), " is read-only at seq ", r->position().seq()));
}

// StopReplication on every reachable tablet but the old primary, then a
// fresh probe of every tablet that still answers, so that positions are final.
void FreezeReplicas(ReparentRun& run, std::vector<ShardTablet>& tablets, const ShardTablet* old) {
  run.Begin();
  std::vector<ShardTablet*> others;
  for (ShardTablet& t : tablets) {
    if (&t != old && t.reachable()) others.push_back(&t);
  }
  const absl::Duration timeout = run.options().rpc_timeout;
  ForEachTablet(others, [timeout](ShardTablet& t) {
    auto r = t.client->Call(t.client->replication(), &tablet::Replication::Stub::StopReplication,
                            tablet::StopReplicationRequest(), timeout);
    if (!r.ok()) t.reach = r.status();
  });
  std::vector<ShardTablet*> answering;
  for (ShardTablet& t : tablets) {
    if (t.reachable()) answering.push_back(&t);
  }
  ProbeTablets(answering, timeout);
  run.End("stop replication", internal::DescribeAll(tablets));
}

// Brings the candidate up to the most advanced reachable tablet, if it is
// behind: replicate from it until its newest seq, then stop.
absl::Status CatchUp(ReparentRun& run, std::vector<ShardTablet>& tablets, ShardTablet& candidate,
                     int64_t known_term) {
  ShardTablet* most = &candidate;
  for (ShardTablet& t : tablets) {
    if (t.reachable() && t.seq() > most->seq()) most = &t;
  }
  if (most == &candidate) return absl::OkStatus();
  const ReparentOptions& o = run.options();
  run.Begin();
  tablet::TabletClient& c = *candidate.client;
  tablet::SetReplicationSourceRequest source;
  *source.mutable_source() = most->alias.ToProto();
  source.set_term(known_term);
  source.set_start(true);
  auto set = c.Call(c.replication(), &tablet::Replication::Stub::SetReplicationSource, source,
                    o.rpc_timeout);
  if (!set.ok()) return AtTablet(set.status(), candidate);

  tablet::WaitForPositionRequest wait;
  wait.set_seq(most->seq());
  *wait.mutable_deadline() = tablet::ToProtoTime(absl::Now() + o.wait_replicas_timeout);
  auto waited = c.Call(c.replication(), &tablet::Replication::Stub::WaitForPosition, wait,
                       o.wait_replicas_timeout + o.rpc_timeout);
  auto stopped = c.Call(c.replication(), &tablet::Replication::Stub::StopReplication,
                        tablet::StopReplicationRequest(), o.rpc_timeout);
  if (!waited.ok()) {
    return absl::Status(waited.status().code(),
                        absl::StrCat(candidate.name(), " could not catch up with ", most->name(),
                                     " (seq ", candidate.seq(), " of ", most->seq(), "): ",
                                     waited.status().message()));
  }
  if (!stopped.ok()) return AtTablet(stopped.status(), candidate);
  const int64_t from = candidate.seq();
  candidate.repl = stopped->status();
  run.End("catch up", absl::StrCat(candidate.name(), " fetched seq ", from + 1, "..",
                                   waited->position().seq(), " from ", most->name()));
  return absl::OkStatus();
}

absl::StatusOr<ReparentResult> EmergencyLocked(topo::Server& ts, ReparentRun& run) {
  const ReparentOptions& o = run.options();
  ReparentResult& r = run.result();
  ASSIGN_OR_RETURN(topo::ShardInfo shard, ts.GetShard(r.keyspace, r.shard));
  r.old_primary = internal::AliasName(shard.record.primary_alias());
  r.old_term = shard.record.primary_term();
  if (o.skip_if) {
    r.skipped = o.skip_if(shard.record);
    if (!r.skipped.empty()) {
      return run.Finish(absl::StrCat("nothing done on ", run.shard_name(), ": ", r.skipped));
    }
  }
  if (o.new_primary.has_value() && o.new_primary->ToString() == r.old_primary) {
    return absl::FailedPreconditionError(absl::StrCat(
        r.old_primary, " is the current primary of ", run.shard_name(),
        "; EmergencyReparentShard promotes another tablet (name one with --new-primary)"));
  }

  run.Begin();
  ASSIGN_OR_RETURN(std::vector<ShardTablet> tablets,
                   FindShardTablets(ts, r.keyspace, r.shard, o.dial));
  run.End("find tablets", absl::StrCat(tablets.size(), " tablets"));
  ShardTablet* old = nullptr;
  if (!r.old_primary.empty()) {
    old = internal::FindTablet(tablets,
                               topo::TabletAlias::FromProto(shard.record.primary_alias()));
  }
  if (old != nullptr) DemoteOldPrimary(run, *old);
  FreezeReplicas(run, tablets, old);

  ShardTablet* candidate = nullptr;
  if (o.new_primary.has_value()) {
    ASSIGN_OR_RETURN(candidate,
                     internal::CheckNamedCandidate(tablets, *o.new_primary, run.shard_name()));
  } else {
    candidate = internal::MostAdvanced(internal::EligibleReplicas(tablets, r.old_primary),
                                       shard.record.primary_alias().cell(),
                                       /*cell_first=*/false);
    if (candidate == nullptr) return internal::NoCandidate(tablets, run.shard_name());
  }
  run.Note(absl::StrCat("candidate: ", Describe(*candidate)));

  int64_t known_term = r.old_term;
  for (const ShardTablet& t : tablets) {
    if (t.reachable()) known_term = std::max(known_term, t.repl.term());
  }
  RETURN_IF_ERROR(CatchUp(run, tablets, *candidate, known_term));

  run.Begin();
  ASSIGN_OR_RETURN(int64_t term,
                   internal::WriteShardPrimary(ts, run, candidate->alias, known_term + 1));
  run.End("write shard record", absl::StrCat("primary ", candidate->name(), ", term ", term));

  run.Begin();
  absl::StatusOr<tablet::LogPosition> pos = internal::Promote(*candidate, term, o.rpc_timeout);
  if (!pos.ok()) {
    return absl::Status(
        pos.status().code(),
        absl::StrCat("PromoteReplica failed: ", pos.status().message(), "; the Shard record names ",
                     candidate->name(), " with term ", term,
                     ": run EmergencyReparentShard again with another --new-primary"));
  }
  r.change_config = *pos;
  r.new_primary = candidate->name();
  r.new_term = term;
  r.changed = true;
  run.End("promote", absl::StrCat(candidate->name(), " is primary; CHANGE_CONFIG at seq ",
                                  pos->seq()));

  run.Begin();
  std::vector<std::string> done =
      internal::RepointReplicas(internal::AllBut(tablets, {candidate}), term, run);
  run.End("repoint replicas", done.empty() ? "none" : absl::StrJoin(done, ", "));
  return run.Finish(absl::StrCat(
      candidate->name(), " is the primary of ", run.shard_name(), " (term ", term, ")",
      r.old_primary.empty() ? "" : absl::StrCat(", was ", r.old_primary, " (term ", r.old_term, ")")));
}

}  // namespace

absl::StatusOr<ReparentResult> EmergencyReparentShard(topo::Server& ts, absl::string_view keyspace,
                                                      absl::string_view shard,
                                                      const ReparentOptions& options) {
  ReparentRun run(kOperation, keyspace, shard, options);
  return internal::RunUnderShardLock(ts, run, keyspace, shard, [&] { return EmergencyLocked(ts, run); });
}

}  // namespace shale::ctl
