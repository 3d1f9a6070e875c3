#include "ctl/rebuild.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "key/key_range.h"

namespace shale::ctl {
namespace {

constexpr topodata::TabletType kServedTypes[] = {topodata::PRIMARY, topodata::REPLICA,
                                                 topodata::RDONLY};

bool ServesIn(const topodata::Shard& shard, topodata::TabletType type, absl::string_view cell) {
  for (const auto& st : shard.served_types()) {
    if (st.tablet_type() != type) continue;
    if (st.cells().empty()) return true;
    if (std::find(st.cells().begin(), st.cells().end(), cell) != st.cells().end()) return true;
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> ResolveCells(topo::Server& ts,
                                                      const std::vector<std::string>& cells) {
  if (!cells.empty()) {
    for (const std::string& c : cells) RETURN_IF_ERROR(ts.GetCellInfo(c).status());
    return cells;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> all, ts.ListCells());
  if (all.empty()) {
    return absl::FailedPreconditionError("the topology has no cells; add one with AddCellInfo");
  }
  return all;
}

void SortReferences(topodata::SrvKeyspace::Partition& p) {
  std::sort(p.mutable_shard_references()->begin(), p.mutable_shard_references()->end(),
            [](const auto& a, const auto& b) { return a.key_range().start() < b.key_range().start(); });
}

absl::StatusOr<topodata::SrvKeyspace> BuildSrvKeyspace(
    absl::string_view keyspace, const topodata::Keyspace& ks,
    const std::map<std::string, topodata::Shard>& shards, absl::string_view cell,
    bool allow_partial) {
  topodata::SrvKeyspace srv;
  srv.set_sharding_column_name(ks.sharding_column_name());
  srv.set_sharding_column_type(ks.sharding_column_type());
  for (topodata::TabletType type : kServedTypes) {
    topodata::SrvKeyspace::Partition partition;
    partition.set_served_type(type);
    std::vector<key::KeyRange> ranges;
    for (const auto& [name, shard] : shards) {
      if (!ServesIn(shard, type, cell)) continue;
      auto* ref = partition.add_shard_references();
      ref->set_name(name);
      *ref->mutable_key_range() = shard.key_range();
      ranges.push_back(key::KeyRange::FromProto(shard.key_range()));
    }
    absl::Status coverage = key::CheckCoverage(ranges);
    if (!coverage.ok() && !allow_partial) {
      return absl::FailedPreconditionError(absl::StrCat(
          "keyspace ", keyspace, ": the ", topodata::TabletType_Name(type),
          " serving shards in cell ", cell, " do not tile the key space: ", coverage.message(),
          " (pass --allow-partial to write it anyway)"));
    }
    SortReferences(partition);
    *srv.add_partitions() = std::move(partition);
  }
  for (const auto& sf : ks.served_froms()) {
    if (!sf.cells().empty() &&
        std::find(sf.cells().begin(), sf.cells().end(), cell) == sf.cells().end()) {
      continue;
    }
    auto* out = srv.add_served_from();
    out->set_tablet_type(sf.tablet_type());
    out->set_keyspace(sf.keyspace());
  }
  *srv.mutable_routing_rules() = ks.routing_rules();
  return srv;
}

}  // namespace

absl::Status RebuildKeyspaceGraph(topo::Server& ts, absl::string_view keyspace,
                                  const std::vector<std::string>& cells, bool allow_partial) {
  ASSIGN_OR_RETURN(topo::KeyspaceInfo ks, ts.GetKeyspace(keyspace));
  ASSIGN_OR_RETURN(std::vector<std::string> target_cells, ResolveCells(ts, cells));
  ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListShards(keyspace));
  std::map<std::string, topodata::Shard> shards;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(keyspace, name));
    shards[name] = std::move(si.record);
  }
  // Compute everything first, so that a refusal leaves the topology unchanged.
  std::vector<std::pair<std::string, topodata::SrvKeyspace>> graphs;
  for (const std::string& cell : target_cells) {
    ASSIGN_OR_RETURN(topodata::SrvKeyspace srv,
                     BuildSrvKeyspace(keyspace, ks.record, shards, cell, allow_partial));
    graphs.emplace_back(cell, std::move(srv));
  }
  for (const auto& [cell, srv] : graphs) RETURN_IF_ERROR(ts.PutSrvKeyspace(cell, keyspace, srv));
  return absl::OkStatus();
}

absl::Status RebuildShardGraph(topo::Server& ts, absl::string_view keyspace,
                               absl::string_view shard, const std::vector<std::string>& cells) {
  ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(keyspace, shard));
  ASSIGN_OR_RETURN(std::vector<std::string> target_cells, ResolveCells(ts, cells));
  std::vector<std::pair<std::string, topodata::SrvKeyspace>> graphs;
  for (const std::string& cell : target_cells) {
    ASSIGN_OR_RETURN(topodata::SrvKeyspace srv, ts.GetSrvKeyspace(cell, keyspace));
    for (topodata::TabletType type : kServedTypes) {
      topodata::SrvKeyspace::Partition* partition = nullptr;
      for (auto& p : *srv.mutable_partitions()) {
        if (p.served_type() == type) partition = &p;
      }
      if (partition == nullptr) {
        partition = srv.add_partitions();
        partition->set_served_type(type);
      }
      auto* refs = partition->mutable_shard_references();
      refs->erase(std::remove_if(refs->begin(), refs->end(),
                                 [&](const auto& r) { return r.name() == shard; }),
                  refs->end());
      if (ServesIn(si.record, type, cell)) {
        auto* ref = partition->add_shard_references();
        ref->set_name(std::string(shard));
        *ref->mutable_key_range() = si.record.key_range();
        SortReferences(*partition);
      }
    }
    graphs.emplace_back(cell, std::move(srv));
  }
  for (const auto& [cell, srv] : graphs) RETURN_IF_ERROR(ts.PutSrvKeyspace(cell, keyspace, srv));
  return absl::OkStatus();
}

}  // namespace shale::ctl
