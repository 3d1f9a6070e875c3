#include "ctl/move_tables_workflow.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"

namespace shale::ctl {
namespace {

bool ServesPrimary(const topodata::Shard& s) {
  for (const auto& st : s.served_types()) {
    if (st.tablet_type() == topodata::PRIMARY) return true;
  }
  return false;
}

// Whether the shard denies every one of the tables.
bool DeniesAll(const topodata::Shard& s, const std::vector<std::string>& tables) {
  const std::vector<std::string> denied(s.denied_tables().begin(), s.denied_tables().end());
  return std::all_of(tables.begin(), tables.end(),
                     [&](const std::string& t) { return TableListed(denied, t); });
}

}  // namespace

bool TableListed(const std::vector<std::string>& tables, absl::string_view t) {
  return std::any_of(tables.begin(), tables.end(),
                     [&](const std::string& x) { return absl::EqualsIgnoreCase(x, t); });
}

bool IsMoveStream(const topodata::Shard::SourceShard& s, absl::string_view own_keyspace) {
  return s.keyspace() != own_keyspace && s.tables_size() > 0;
}

absl::StatusOr<std::map<std::string, topodata::Shard>> LoadShards(topo::Server& ts,
                                                                  absl::string_view keyspace) {
  std::map<std::string, topodata::Shard> out;
  ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListShards(keyspace));
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(keyspace, n));
    out[n] = std::move(si.record);
  }
  return out;
}

std::vector<std::string> PrimaryShards(const std::map<std::string, topodata::Shard>& shards) {
  std::vector<std::string> out;
  for (const auto& [name, rec] : shards) {
    if (ServesPrimary(rec)) out.push_back(name);
  }
  return out;
}

absl::StatusOr<MoveTablesWorkflow> FindMoveTablesWorkflow(topo::Server& ts,
                                                          absl::string_view keyspace) {
  MoveTablesWorkflow wf;
  wf.target_keyspace = std::string(keyspace);
  ASSIGN_OR_RETURN(wf.target_records, LoadShards(ts, keyspace));
  std::set<std::string> source_keyspaces, forward_followers, reverse_followers;
  std::vector<std::string> tables;
  auto add_tables = [&](const topodata::Shard::SourceShard& s) {
    for (const std::string& t : s.tables()) {
      if (!TableListed(tables, t)) tables.push_back(t);
    }
  };
  for (const auto& [name, rec] : wf.target_records) {
    for (const auto& s : rec.source_shards()) {
      if (!IsMoveStream(s, keyspace)) continue;
      source_keyspaces.insert(s.keyspace());
      forward_followers.insert(name);
      add_tables(s);
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> keyspaces, ts.ListKeyspaces());
  for (const std::string& other : keyspaces) {
    if (other == keyspace) continue;
    ASSIGN_OR_RETURN(auto shards, LoadShards(ts, other));
    for (const auto& [name, rec] : shards) {
      for (const auto& s : rec.source_shards()) {
        if (s.keyspace() != keyspace || s.tables_size() == 0) continue;
        source_keyspaces.insert(other);
        reverse_followers.insert(name);
        add_tables(s);
      }
    }
  }
  if (source_keyspaces.empty()) {
    return absl::NotFoundError(absl::StrCat("keyspace ", keyspace,
                                            " has no MoveTables workflow (start one with "
                                            "MoveTables --from KS --to ", keyspace, ")"));
  }
  if (source_keyspaces.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "keyspace ", keyspace, " takes tables from several keyspaces (",
        absl::StrJoin(source_keyspaces, ","), "); fix the Shard records by hand"));
  }
  wf.source_keyspace = *source_keyspaces.begin();
  wf.tables = std::move(tables);
  ASSIGN_OR_RETURN(wf.source_records, LoadShards(ts, wf.source_keyspace));
  wf.sources = PrimaryShards(wf.source_records);
  wf.targets = PrimaryShards(wf.target_records);
  wf.reversed = !wf.sources.empty();
  for (const std::string& s : wf.sources) {
    wf.reversed = wf.reversed && DeniesAll(wf.source_records[s], wf.tables);
  }
  // Streams into the side that serves the tables are dormant there: the
  // leftovers of an interrupted switch.
  if (wf.reversed) {
    wf.dormant_targets.assign(forward_followers.begin(), forward_followers.end());
  } else {
    wf.dormant_sources.assign(reverse_followers.begin(), reverse_followers.end());
  }
  return wf;
}

absl::Status CheckNoMoveTables(topo::Server& ts, absl::string_view keyspace) {
  ASSIGN_OR_RETURN(std::vector<std::string> keyspaces, ts.ListKeyspaces());
  for (const std::string& ks : keyspaces) {
    ASSIGN_OR_RETURN(auto shards, LoadShards(ts, ks));
    for (const auto& [name, rec] : shards) {
      for (const auto& s : rec.source_shards()) {
        if (!IsMoveStream(s, ks) || (ks != keyspace && s.keyspace() != keyspace)) continue;
        return absl::FailedPreconditionError(absl::StrCat(
            "keyspace ", keyspace, " takes part in a MoveTables workflow (", ks, "/", name,
            " follows ", s.keyspace(), "/", s.shard(), " for ", absl::StrJoin(s.tables(), ","),
            "); finish it with Complete first"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace shale::ctl
