// The steps shared by the planned and the emergency reparent, and the
// result's JSON form.

#include <algorithm>
#include <mutex>

#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ctl/reparent_steps.h"
#include "tablet/proto_time.h"

namespace shale::ctl {

nlohmann::json ReparentResult::ToJson() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const ReparentStep& s : steps) {
    steps_json.push_back({{"step", s.name},
                          {"ms", absl::ToDoubleMilliseconds(s.took)},
                          {"detail", s.detail}});
  }
  nlohmann::json j = {
      {"operation", operation},
      {"keyspace", keyspace},
      {"shard", shard},
      {"old_primary", old_primary},
      {"old_term", old_term},
      {"new_primary", new_primary},
      {"new_term", new_term},
      {"changed", changed},
      {"message", message},
      {"change_config",
       {{"seq", change_config.seq()},
        {"term", change_config.term()},
        {"commit_ts_us", change_config.commit_ts_us()}}},
      {"stall_us", stall_us},
      {"forwarded", forwarded},
      {"rolled_back", rolled_back},
      {"steps", steps_json},
      {"warnings", warnings},
      {"started", absl::FormatTime(absl::RFC3339_full, started, absl::UTCTimeZone())},
      {"took_ms", absl::ToDoubleMilliseconds(took)},
  };
  if (!skipped.empty()) j["skipped"] = skipped;
  return j;
}

namespace internal {

ReparentRun::ReparentRun(std::string operation, absl::string_view keyspace,
                         absl::string_view shard, const ReparentOptions& options)
    : options_(options) {
  result_.operation = std::move(operation);
  result_.keyspace = std::string(keyspace);
  result_.shard = std::string(shard);
  result_.started = absl::Now();
  step_start_ = result_.started;
}

void ReparentRun::End(const std::string& name, const std::string& detail) {
  const absl::Duration took = absl::Now() - step_start_;
  result_.steps.push_back({name, took, detail});
  Note(absl::StrCat(name, ": ", detail, " (", absl::FormatDuration(absl::Trunc(took, absl::Microseconds(10))), ")"));
}

void ReparentRun::Note(const std::string& line) {
  if (options_.progress) options_.progress(line);
}

void ReparentRun::Warn(const std::string& line) {
  result_.warnings.push_back(line);
  Note(absl::StrCat("warning: ", line));
}

ReparentResult ReparentRun::Finish(std::string message) {
  result_.message = std::move(message);
  result_.took = absl::Now() - result_.started;
  Note(result_.message);
  return result_;
}

ShardTablet* FindTablet(std::vector<ShardTablet>& tablets, const topo::TabletAlias& alias) {
  for (ShardTablet& t : tablets) {
    if (t.alias == alias) return &t;
  }
  return nullptr;
}

std::vector<ShardTablet*> EligibleReplicas(std::vector<ShardTablet>& tablets,
                                           const std::string& except) {
  std::vector<ShardTablet*> out;
  for (ShardTablet& t : tablets) {
    if (t.reachable() && t.type == topodata::REPLICA && t.name() != except) out.push_back(&t);
  }
  return out;
}

ShardTablet* MostAdvanced(const std::vector<ShardTablet*>& replicas,
                          const std::string& prefer_cell, bool cell_first) {
  ShardTablet* best = nullptr;
  // Ranks a against b: true if a is the better candidate.
  auto better = [&](const ShardTablet& a, const ShardTablet& b) {
    const bool a_cell = a.alias.cell == prefer_cell;
    const bool b_cell = b.alias.cell == prefer_cell;
    if (cell_first && a_cell != b_cell) return a_cell;
    if (a.seq() != b.seq()) return a.seq() > b.seq();
    if (a_cell != b_cell) return a_cell;
    return a.alias < b.alias;
  };
  for (ShardTablet* t : replicas) {
    if (best == nullptr || better(*t, *best)) best = t;
  }
  return best;
}

absl::StatusOr<ShardTablet*> CheckNamedCandidate(std::vector<ShardTablet>& tablets,
                                                 const topo::TabletAlias& alias,
                                                 const std::string& shard_name) {
  ShardTablet* t = FindTablet(tablets, alias);
  if (t == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(alias.ToString(), " is not a tablet of ", shard_name));
  }
  if (!t->reachable()) {
    return absl::UnavailableError(absl::StrCat("cannot promote ", alias.ToString(), ": ",
                                               AtTablet(t->reach, *t).message()));
  }
  if (t->type != topodata::REPLICA) {
    return absl::FailedPreconditionError(
        absl::StrCat(alias.ToString(), " is ", topodata::TabletType_Name(t->type),
                     "; only a REPLICA can become the primary"));
  }
  return t;
}

absl::Status NoCandidate(const std::vector<ShardTablet>& tablets, const std::string& shard_name) {
  std::vector<std::string> seen;
  for (const ShardTablet& t : tablets) seen.push_back(Describe(t));
  return absl::FailedPreconditionError(
      absl::StrCat("no reachable REPLICA of ", shard_name, " can be promoted (tablets: ",
                   seen.empty() ? "none" : absl::StrJoin(seen, ", "), ")"));
}

absl::StatusOr<int64_t> WriteShardPrimary(topo::Server& ts, const ReparentRun& run,
                                          const topo::TabletAlias& alias, int64_t term) {
  int64_t written = term;
  const absl::Time now = absl::Now();
  absl::StatusOr<topodata::Shard> updated = ts.UpdateShardFields(
      run.result().keyspace, run.result().shard, [&](topodata::Shard& shard) -> absl::Status {
        written = std::max(term, shard.primary_term() + 1);
        *shard.mutable_primary_alias() = alias.ToProto();
        shard.set_primary_term(written);
        *shard.mutable_primary_term_start_time() = tablet::ToProtoTime(now);
        return absl::OkStatus();
      });
  RETURN_IF_ERROR(updated.status());
  return written;
}

absl::StatusOr<tablet::LogPosition> Promote(ShardTablet& candidate, int64_t term,
                                            absl::Duration timeout) {
  tablet::PromoteReplicaRequest req;
  req.set_term(term);
  tablet::TabletClient& c = *candidate.client;
  absl::StatusOr<tablet::PromoteReplicaResponse> r =
      c.Call(c.manager(), &tablet::TabletManager::Stub::PromoteReplica, req, timeout);
  if (!r.ok()) return AtTablet(r.status(), candidate);
  return r->position();
}

std::vector<std::string> RepointReplicas(const std::vector<ShardTablet*>& targets, int64_t term,
                                         ReparentRun& run) {
  std::vector<ShardTablet*> reachable;
  for (ShardTablet* t : targets) {
    if (!t->reachable()) {
      run.Warn(absl::StrCat(t->name(), " not repointed, it does not answer (", t->reach.message(),
                            "); it follows the Shard record when it is back"));
    } else {
      reachable.push_back(t);
    }
  }
  std::mutex mu;
  std::vector<std::string> done;
  std::vector<std::string> failed;
  const absl::Duration timeout = run.options().rpc_timeout;
  ForEachTablet(reachable, [&](ShardTablet& t) {
    tablet::SetReplicationSourceRequest req;  // no source: follow the Shard record
    req.set_term(term);
    req.set_start(true);
    auto r = t.client->Call(t.client->replication(),
                            &tablet::Replication::Stub::SetReplicationSource, req, timeout);
    std::lock_guard<std::mutex> l(mu);
    if (r.ok()) {
      done.push_back(t.name());
    } else {
      failed.push_back(
          absl::StrCat(t.name(), " not repointed: ", AtTablet(r.status(), t).message()));
    }
  });
  std::sort(done.begin(), done.end());
  std::sort(failed.begin(), failed.end());
  for (const std::string& f : failed) run.Warn(f);
  return done;
}

std::vector<ShardTablet*> AllBut(std::vector<ShardTablet>& tablets,
                                 const std::vector<const ShardTablet*>& except) {
  std::vector<ShardTablet*> out;
  for (ShardTablet& t : tablets) {
    if (std::find(except.begin(), except.end(), &t) == except.end()) out.push_back(&t);
  }
  return out;
}

std::string DescribeAll(const std::vector<ShardTablet>& tablets) {
  std::vector<std::string> parts;
  for (const ShardTablet& t : tablets) parts.push_back(Describe(t));
  return absl::StrCat(tablets.size(), " tablets: ", absl::StrJoin(parts, ", "));
}

absl::StatusOr<ReparentResult> RunUnderShardLock(
    topo::Server& ts, ReparentRun& run, absl::string_view keyspace, absl::string_view shard,
    absl::FunctionRef<absl::StatusOr<ReparentResult>()> fn) {
  run.Begin();
  const std::string reason = !run.options().reason.empty()
                                 ? run.options().reason
                                 : absl::StrCat(run.result().operation, " ", run.shard_name());
  ASSIGN_OR_RETURN(std::unique_ptr<topo::LockHandle> lock,
                   ts.LockShard(keyspace, shard, reason, run.options().lock_timeout));
  run.End("lock shard", absl::StrCat("locked ", run.shard_name()));
  absl::StatusOr<ReparentResult> result = fn();
  absl::Status unlocked = lock->Unlock();
  if (!unlocked.ok() && result.ok()) {
    result->warnings.push_back(absl::StrCat("unlock: ", unlocked.message()));
  }
  return result;
}

std::string AliasName(const topodata::TabletAlias& alias) {
  if (alias.cell().empty()) return "";
  return topo::TabletAlias::FromProto(alias).ToString();
}

}  // namespace internal
}  // namespace shale::ctl
