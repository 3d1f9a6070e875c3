// PlannedReparentShard (DESIGN §4 "Planned migration"): elect the first
// primary of a shard, or hand the role over from a live primary with
// MigratePrimary.

#include <algorithm>

#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ctl/reparent.h"
#include "ctl/reparent_steps.h"
#include "tablet/proto_time.h"

namespace shale::ctl {
namespace {

using internal::ReparentRun;

constexpr char kOperation[] = "PlannedReparentShard";

// How often the Shard record is re-read while waiting for the new primary's write.
constexpr absl::Duration kRecordPoll = absl::Milliseconds(20);

// A shard without a primary: the Shard record names the candidate with a
// new term, the candidate is promoted, and the others follow it.
absl::StatusOr<ReparentResult> ElectFirstPrimary(topo::Server& ts, ReparentRun& run,
                                                 std::vector<ShardTablet>& tablets,
                                                 ShardTablet& candidate) {
  int64_t term = run.result().old_term;
  for (const ShardTablet& t : tablets) {
    if (t.reachable()) term = std::max(term, t.repl.term());
  }
  ++term;
  run.Begin();
  ASSIGN_OR_RETURN(int64_t written, internal::WriteShardPrimary(ts, run, candidate.alias, term));
  run.End("write shard record", absl::StrCat("primary ", candidate.name(), ", term ", written));

  run.Begin();
  absl::StatusOr<tablet::LogPosition> pos =
      internal::Promote(candidate, written, run.options().rpc_timeout);
  if (!pos.ok()) {
    // Give the shard back its "no primary" state so that a retry elects again.
    absl::Status undo = ts.UpdateShardFields(run.result().keyspace, run.result().shard,
                                             [&](topodata::Shard& shard) -> absl::Status {
                                               if (shard.primary_term() == written &&
                                                   topo::TabletAlias::FromProto(
                                                       shard.primary_alias()) == candidate.alias) {
                                                 shard.clear_primary_alias();
                                               }
                                               return absl::OkStatus();
                                             })
                            .status();
    return absl::Status(
        pos.status().code(),
        absl::StrCat("PromoteReplica failed: ", pos.status().message(),
                     undo.ok() ? "; the Shard record names no primary again"
                               : absl::StrCat("; could not clear the Shard record: ",
                                              undo.message())));
  }
  run.End("promote", absl::StrCat(candidate.name(), " is primary; CHANGE_CONFIG at seq ",
                                  pos->seq()));
  ReparentResult& r = run.result();
  r.change_config = *pos;
  r.new_primary = candidate.name();
  r.new_term = written;
  r.changed = true;

  run.Begin();
  std::vector<std::string> done =
      internal::RepointReplicas(internal::AllBut(tablets, {&candidate}), written, run);
  run.End("repoint replicas", done.empty() ? "none" : absl::StrJoin(done, ", "));
  return run.Finish(absl::StrCat(candidate.name(), " is the first primary of ", run.shard_name(),
                                 " (term ", written, ")"));
}

// Waits until the candidate has applied everything the primary has.
absl::Status WaitForCatchUp(ReparentRun& run, ShardTablet& primary, ShardTablet& candidate) {
  const ReparentOptions& o = run.options();
  run.Begin();
  tablet::TabletClient& p = *primary.client;
  absl::StatusOr<tablet::PrimaryPositionResponse> pos =
      p.Call(p.replication(), &tablet::Replication::Stub::PrimaryPosition,
             tablet::PrimaryPositionRequest(), o.rpc_timeout);
  if (!pos.ok()) return AtTablet(pos.status(), primary);
  const int64_t seq = pos->position().seq();

  tablet::WaitForPositionRequest req;
  req.set_seq(seq);
  *req.mutable_deadline() = tablet::ToProtoTime(absl::Now() + o.wait_replicas_timeout);
  tablet::TabletClient& c = *candidate.client;
  absl::StatusOr<tablet::WaitForPositionResponse> waited =
      c.Call(c.replication(), &tablet::Replication::Stub::WaitForPosition, req,
             o.wait_replicas_timeout + o.rpc_timeout);
  if (absl::IsDeadlineExceeded(waited.status())) {
    return absl::DeadlineExceededError(absl::StrCat(
        candidate.name(), " did not catch up with the primary ", primary.name(), " (seq ", seq,
        ") within ", absl::FormatDuration(o.wait_replicas_timeout),
        "; raise --wait-replicas-timeout or pick another tablet: ", waited.status().message()));
  }
  if (!waited.ok()) return AtTablet(waited.status(), candidate);
  run.End("wait for candidate", absl::StrCat(candidate.name(), " reached seq ",
                                            waited->position().seq(), " (primary at ", seq, ")"));
  return absl::OkStatus();
}

// Re-reads the Shard record until it names alias with term (the new primary
// writes it itself during the hand-over), for at most timeout.
absl::Status VerifyShardRecord(topo::Server& ts, ReparentRun& run, const ShardTablet& candidate,
                               int64_t term) {
  const absl::Time deadline = absl::Now() + run.options().rpc_timeout;
  topodata::Shard rec;
  for (;;) {
    ASSIGN_OR_RETURN(topo::ShardInfo info, ts.GetShard(run.result().keyspace, run.result().shard));
    rec = info.record;
    if (topo::TabletAlias::FromProto(rec.primary_alias()) == candidate.alias &&
        rec.primary_term() == term) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(kRecordPoll);
  }
  return absl::InternalError(absl::StrCat(
      "MigratePrimary succeeded but the Shard record names ", internal::AliasName(rec.primary_alias()),
      " with term ", rec.primary_term(), " (expected ", candidate.name(), " with term ", term,
      "); check GetShard ", run.shard_name()));
}

// A live primary hands over to the candidate.
absl::StatusOr<ReparentResult> Migrate(topo::Server& ts, ReparentRun& run,
                                       std::vector<ShardTablet>& tablets, ShardTablet& candidate) {
  const ReparentOptions& o = run.options();
  ReparentResult& r = run.result();
  ASSIGN_OR_RETURN(topo::TabletAlias primary_alias, topo::TabletAlias::Parse(r.old_primary));
  ShardTablet* primary = internal::FindTablet(tablets, primary_alias);
  if (primary == nullptr || !primary->reachable()) {
    return absl::UnavailableError(absl::StrCat(
        "the primary ", r.old_primary, " of ", run.shard_name(), " does not answer (",
        primary == nullptr ? "no such tablet in the shard" : primary->reach.message(),
        "); use EmergencyReparentShard"));
  }
  RETURN_IF_ERROR(WaitForCatchUp(run, *primary, candidate));

  const int64_t term = r.old_term + 1;
  run.Begin();
  tablet::MigratePrimaryRequest req;
  *req.mutable_candidate() = candidate.alias.ToProto();
  req.set_new_term(term);
  req.set_grace_ms(absl::ToInt64Milliseconds(o.grace));
  req.set_timeout_ms(absl::ToInt64Milliseconds(o.migrate_timeout));
  tablet::TabletClient& p = *primary->client;
  absl::StatusOr<tablet::MigratePrimaryResponse> migrated =
      p.Call(p.manager(), &tablet::TabletManager::Stub::MigratePrimary, req,
             o.grace + o.migrate_timeout + o.rpc_timeout);
  if (!migrated.ok()) {
    return absl::Status(migrated.status().code(),
                        absl::StrCat("MigratePrimary to ", candidate.name(), " failed: ",
                                     AtTablet(migrated.status(), *primary).message()));
  }
  r.change_config = migrated->change_config();
  r.stall_us = migrated->stall_us();
  r.forwarded = migrated->forwarded();
  r.rolled_back = migrated->rolled_back();
  r.new_primary = candidate.name();
  r.new_term = term;
  r.changed = true;
  run.End("migrate", absl::StrCat(primary->name(), " handed writes to ", candidate.name(),
                                  " at seq ", r.change_config.seq(), ": stall ", r.stall_us,
                                  " us, ", r.forwarded, " forwarded, ", r.rolled_back,
                                  " rolled back"));

  run.Begin();
  RETURN_IF_ERROR(VerifyShardRecord(ts, run, candidate, term));
  run.End("verify shard record", absl::StrCat("primary ", candidate.name(), ", term ", term));

  // The old primary follows the new one by itself (it forwards late writes).
  run.Begin();
  std::vector<std::string> done =
      internal::RepointReplicas(internal::AllBut(tablets, {&candidate, primary}), term, run);
  run.End("repoint replicas", done.empty() ? "none" : absl::StrJoin(done, ", "));
  return run.Finish(absl::StrCat(candidate.name(), " is the primary of ", run.shard_name(),
                                 " (term ", term, "), was ", primary->name(), " (term ",
                                 r.old_term, ")"));
}

absl::StatusOr<ReparentResult> PlannedLocked(topo::Server& ts, ReparentRun& run) {
  const ReparentOptions& o = run.options();
  ReparentResult& r = run.result();
  ASSIGN_OR_RETURN(topo::ShardInfo shard, ts.GetShard(r.keyspace, r.shard));
  r.old_primary = internal::AliasName(shard.record.primary_alias());
  r.old_term = shard.record.primary_term();
  if (o.new_primary.has_value() && o.new_primary->ToString() == r.old_primary) {
    r.new_primary = r.old_primary;
    r.new_term = r.old_term;
    return run.Finish(absl::StrCat(r.old_primary, " is already the primary of ", run.shard_name(),
                                   " (term ", r.old_term, "); nothing to do"));
  }

  run.Begin();
  ASSIGN_OR_RETURN(std::vector<ShardTablet> tablets,
                   FindShardTablets(ts, r.keyspace, r.shard, o.dial));
  ProbeTablets(AllOf(tablets), o.rpc_timeout);
  run.End("probe tablets", internal::DescribeAll(tablets));

  ShardTablet* candidate = nullptr;
  if (o.new_primary.has_value()) {
    ASSIGN_OR_RETURN(candidate,
                     internal::CheckNamedCandidate(tablets, *o.new_primary, run.shard_name()));
  } else {
    const std::string primary_cell = shard.record.primary_alias().cell();
    candidate = internal::MostAdvanced(internal::EligibleReplicas(tablets, r.old_primary),
                                       primary_cell, /*cell_first=*/true);
    if (candidate == nullptr) return internal::NoCandidate(tablets, run.shard_name());
  }
  run.Note(absl::StrCat("candidate: ", Describe(*candidate)));
  if (r.old_primary.empty()) return ElectFirstPrimary(ts, run, tablets, *candidate);
  return Migrate(ts, run, tablets, *candidate);
}

}  // namespace

absl::StatusOr<ReparentResult> PlannedReparentShard(topo::Server& ts, absl::string_view keyspace,
                                                    absl::string_view shard,
                                                    const ReparentOptions& options) {
  ReparentRun run(kOperation, keyspace, shard, options);
  return internal::RunUnderShardLock(ts, run, keyspace, shard, [&] { return PlannedLocked(ts, run); });
}

}  // namespace shale::ctl
