#include "changes/tablet_resolver.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/client/tablet_client.h"

namespace shale::changes {
namespace {

// NotFound naming the keyspace or shard when one of them is gone; else
// Unavailable with why.
absl::Status Missing(topo::Server& ts, absl::string_view keyspace, absl::string_view shard,
                     const absl::Status& cause) {
  absl::StatusOr<topo::KeyspaceInfo> ks = ts.GetKeyspace(keyspace);
  if (absl::IsNotFound(ks.status())) {
    return absl::NotFoundError(absl::StrCat("keyspace ", keyspace, " is gone"));
  }
  if (absl::IsNotFound(cause)) {
    return absl::NotFoundError(absl::StrCat("shard ", keyspace, "/", shard, " is gone"));
  }
  return absl::UnavailableError(
      absl::StrCat("shard ", keyspace, "/", shard, ": ", cause.message()));
}

}  // namespace

absl::StatusOr<TabletTarget> ResolveTablet(topo::Server& ts, const topo::TabletAlias& alias) {
  ASSIGN_OR_RETURN(std::string address, tablet::TabletClient::GrpcAddress(ts, alias));
  return TabletTarget{alias, std::move(address)};
}

absl::StatusOr<std::vector<TabletTarget>> ResolveShardTablets(topo::Server& ts,
                                                              absl::string_view keyspace,
                                                              absl::string_view shard,
                                                              topodata::TabletType type) {
  absl::StatusOr<topo::ShardInfo> info = ts.GetShard(keyspace, shard);
  if (!info.ok()) return Missing(ts, keyspace, shard, info.status());
  std::vector<TabletTarget> out;
  if (type != topodata::REPLICA) {
    if (!info->record.has_primary_alias() || info->record.primary_alias().uid() == 0) {
      return absl::UnavailableError(
          absl::StrCat("shard ", keyspace, "/", shard, " has no primary"));
    }
    const topo::TabletAlias alias = topo::TabletAlias::FromProto(info->record.primary_alias());
    absl::StatusOr<TabletTarget> t = ResolveTablet(ts, alias);
    if (!t.ok()) {
      return absl::UnavailableError(absl::StrCat("shard ", keyspace, "/", shard, " primary ",
                                                 alias.ToString(), ": ", t.status().message()));
    }
    out.push_back(*std::move(t));
    return out;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> cells, ts.ListCells());
  for (const std::string& cell : cells) {
    absl::StatusOr<topodata::ShardReplication> sr = ts.GetShardReplication(cell, keyspace, shard);
    if (!sr.ok()) continue;  // no tablets of the shard in this cell
    for (const auto& node : sr->nodes()) {
      const topo::TabletAlias alias = topo::TabletAlias::FromProto(node.tablet_alias());
      absl::StatusOr<topo::TabletInfo> tablet = ts.GetTablet(alias);
      if (!tablet.ok() || tablet->record.type() != topodata::REPLICA) continue;
      absl::StatusOr<TabletTarget> t = ResolveTablet(ts, alias);
      if (t.ok()) out.push_back(*std::move(t));
    }
  }
  if (out.empty()) {
    return absl::UnavailableError(
        absl::StrCat("shard ", keyspace, "/", shard, " has no REPLICA tablet"));
  }
  return out;
}

}  // namespace shale::changes
