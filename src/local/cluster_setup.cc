#include "local/cluster_setup.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/backoff.h"
#include "ctl/reparent.h"
#include "topo/open/open.h"

namespace shale::local {

absl::StatusOr<std::unique_ptr<topo::Server>> OpenTopology(const std::string& address,
                                                           absl::Time deadline,
                                                           bool create_if_missing) {
  topo::ConnOptions options;
  options.create_if_missing = create_if_missing;
  Backoff backoff(absl::Milliseconds(50), absl::Milliseconds(500));
  absl::StatusOr<std::unique_ptr<topo::Conn>> conn = topo::OpenConn(address, options);
  while (absl::IsUnavailable(conn.status()) && absl::Now() < deadline) {
    absl::SleepFor(backoff.Next());  // the server is still starting
    conn = topo::OpenConn(address, options);
  }
  if (!conn.ok()) return conn.status();
  return std::make_unique<topo::Server>(
      *std::move(conn), [](absl::string_view a) { return topo::OpenConn(a, topo::ConnOptions{}); });
}

absl::Status EnsureRecords(topo::Server& ts, const ClusterPlan& plan,
                           const std::function<void(const std::string&)>& say) {
  for (const std::string& cell : plan.cells) {
    absl::StatusOr<topodata::CellInfo> info = ts.GetCellInfo(cell);
    if (info.ok()) continue;
    if (!absl::IsNotFound(info.status())) return info.status();
    topodata::CellInfo record;
    record.set_region("local");
    absl::Status s = ts.AddCellInfo(cell, record);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
    say(absl::StrCat("created cell ", cell));
  }
  const std::string& ks = plan.options.keyspace;
  absl::StatusOr<topo::KeyspaceInfo> keyspace = ts.GetKeyspace(ks);
  if (!keyspace.ok()) {
    if (!absl::IsNotFound(keyspace.status())) return keyspace.status();
    topodata::Keyspace record;
    record.set_sharding_column_name("id");
    record.set_sharding_column_type(topodata::UINT64);
    record.set_durability_policy(plan.options.replicas >= 1 ? topodata::SEMI_SYNC
                                                            : topodata::DURABILITY_NONE);
    absl::Status s = ts.CreateKeyspace(ks, record);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
    say(absl::StrCat("created keyspace ", ks, " (sharded by id, durability ",
                     plan.options.replicas >= 1 ? "semi_sync" : "none", ")"));
  }
  for (const std::string& shard : plan.shards) {
    absl::StatusOr<topo::ShardInfo> info = ts.GetShard(ks, shard);
    if (info.ok()) continue;
    if (!absl::IsNotFound(info.status())) return info.status();
    absl::Status s = ts.CreateShard(ks, shard);
    if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
    say(absl::StrCat("created shard ", ks, "/", shard));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ElectIfNoPrimary(topo::Server& ts, const ClusterPlan& plan,
                                      const std::string& shard) {
  absl::StatusOr<topo::ShardInfo> info = ts.GetShard(plan.options.keyspace, shard);
  if (!info.ok()) return info.status();
  if (info->record.has_primary_alias()) return false;
  std::vector<const PlannedProcess*> tablets = plan.TabletsOf(shard);
  if (tablets.empty()) return absl::NotFoundError(absl::StrCat("no tablets for shard ", shard));
  ctl::ReparentOptions options;
  absl::StatusOr<topo::TabletAlias> alias = topo::TabletAlias::Parse(tablets.front()->alias);
  if (!alias.ok()) return alias.status();
  options.new_primary = *alias;
  options.reason = "shale local up: first primary";
  absl::StatusOr<ctl::ReparentResult> r =
      ctl::PlannedReparentShard(ts, plan.options.keyspace, shard, options);
  if (!r.ok()) return r.status();
  return true;
}

}  // namespace shale::local
