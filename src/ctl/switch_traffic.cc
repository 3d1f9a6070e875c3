#include "ctl/switch_traffic.h"

#include <algorithm>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "changes/keyspace_position.h"
#include "ctl/move_tables.h"
#include "ctl/primary_switch.h"
#include "ctl/rebuild.h"
#include "ctl/reshard_workflow.h"
#include "key/key_range.h"

namespace shale::ctl {
namespace {

using Json = nlohmann::json;

void Progress(const SwitchOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}


// Moves the non-primary types between the sides and rebuilds the graph.
absl::Status MoveReadTypes(topo::Server& ts, const ReshardWorkflow& wf,
                           const std::vector<topodata::TabletType>& types, bool to_new,
                           const SwitchOptions& o, Json* steps) {
  std::vector<std::string> moved;
  for (topodata::TabletType t : types) {
    if (t == topodata::PRIMARY) continue;
    RETURN_IF_ERROR(SetServing(ts, wf.keyspace, to_new ? wf.old_shards : wf.new_shards, t, false));
    RETURN_IF_ERROR(SetServing(ts, wf.keyspace, to_new ? wf.new_shards : wf.old_shards, t, true));
    moved.push_back(TabletTypeName(t));
  }
  if (moved.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(RebuildKeyspaceGraph(ts, wf.keyspace, {}, false));
  const std::string line =
      absl::StrCat(absl::StrJoin(moved, ","), " traffic now goes to ",
                   absl::StrJoin(to_new ? wf.new_shards : wf.old_shards, ","));
  Progress(o, line);
  steps->push_back(line);
  return absl::OkStatus();
}

// The primary switch from the serving side `from` to the following side
// `to` of a resharding workflow; the streams that start into `from` get
// reverse = reverse_streams.
absl::Status SwitchReshardPrimary(topo::Server& ts, const ReshardWorkflow& wf,
                                  const std::vector<std::string>& from,
                                  const std::vector<std::string>& to, bool reverse_streams,
                                  const SwitchOptions& o, Json* steps) {
  const std::string& ks = wf.keyspace;
  PrimarySwitch sw;
  ASSIGN_OR_RETURN(sw.streams,
                   RunningStreams(ts, ks, wf.followers(), wf.shards, /*require_running=*/true));
  sw.from_keyspace = sw.to_keyspace = ks;
  sw.from = from;
  sw.to = to;
  sw.from_records = sw.to_records = wf.shards;
  sw.reverse_streams = reverse_streams;
  sw.flip = [&]() -> absl::Status {
    RETURN_IF_ERROR(SetServing(ts, ks, from, topodata::PRIMARY, false));
    RETURN_IF_ERROR(SetServing(ts, ks, to, topodata::PRIMARY, true));
    return RebuildKeyspaceGraph(ts, ks, {}, false);
  };
  sw.unflip = [&] {
    SetServing(ts, ks, to, topodata::PRIMARY, false).IgnoreError();
    SetServing(ts, ks, from, topodata::PRIMARY, true).IgnoreError();
    RebuildKeyspaceGraph(ts, ks, {}, true).IgnoreError();
  };
  sw.thaw.set_resharded(true);
  return SwitchPrimary(ts, sw, o, steps);
}

}  // namespace

std::string TabletTypeName(topodata::TabletType t) {
  return absl::AsciiStrToLower(topodata::TabletType_Name(t));
}

bool HasTabletType(const std::vector<topodata::TabletType>& types, topodata::TabletType t) {
  return std::find(types.begin(), types.end(), t) != types.end();
}

absl::StatusOr<KeyspaceWorkflow> FindKeyspaceWorkflow(topo::Server& ts,
                                                      absl::string_view keyspace) {
  absl::StatusOr<ReshardWorkflow> reshard = FindReshardWorkflow(ts, keyspace);
  if (!absl::IsNotFound(reshard.status())) {
    if (!reshard.ok()) return reshard.status();
    return KeyspaceWorkflow(*std::move(reshard));
  }
  absl::StatusOr<MoveTablesWorkflow> move = FindMoveTablesWorkflow(ts, keyspace);
  if (!absl::IsNotFound(move.status())) {
    if (!move.ok()) return move.status();
    return KeyspaceWorkflow(*std::move(move));
  }
  return absl::NotFoundError(
      absl::StrCat("keyspace ", keyspace,
                   " has no resharding workflow and no MoveTables workflow into it (start one "
                   "with Reshard, or MoveTables --to ", keyspace, ")"));
}

absl::StatusOr<std::vector<topodata::TabletType>> ParseTabletTypes(absl::string_view list) {
  std::vector<topodata::TabletType> out;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    const std::string name = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(part));
    topodata::TabletType t;
    if (!topodata::TabletType_Parse(name, &t) ||
        (t != topodata::PRIMARY && t != topodata::REPLICA && t != topodata::RDONLY)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown tablet type \"", part, "\": use primary, replica or rdonly"));
    }
    if (!HasTabletType(out, t)) out.push_back(t);
  }
  if (out.empty()) return absl::InvalidArgumentError("no tablet types given");
  return out;
}

absl::StatusOr<nlohmann::json> SwitchTraffic(topo::Server& ts, absl::string_view keyspace,
                                             const std::vector<topodata::TabletType>& types,
                                             const SwitchOptions& options) {
  ASSIGN_OR_RETURN(auto lock, ts.LockKeyspace(keyspace, "SwitchTraffic", options.lock_timeout));
  ASSIGN_OR_RETURN(KeyspaceWorkflow found, FindKeyspaceWorkflow(ts, keyspace));
  if (auto* move = std::get_if<MoveTablesWorkflow>(&found)) {
    return SwitchMoveTables(ts, *std::move(move), types, /*reverse=*/false, options);
  }
  ReshardWorkflow wf = std::get<ReshardWorkflow>(std::move(found));
  RETURN_IF_ERROR(ClearDormantStreams(ts, wf));
  Json steps = Json::array();
  if (HasTabletType(types, topodata::PRIMARY) && wf.reversed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "primary traffic of keyspace ", keyspace, " already goes to ",
        absl::StrJoin(wf.new_shards, ","), " (ReverseTraffic moves it back)"));
  }
  if (!wf.reversed) {
    // Reads move only once the copy is done.
    RETURN_IF_ERROR(
        RunningStreams(ts, keyspace, wf.new_shards, wf.shards, /*require_running=*/true)
            .status());
  }
  RETURN_IF_ERROR(MoveReadTypes(ts, wf, types, /*to_new=*/true, options, &steps));
  if (HasTabletType(types, topodata::PRIMARY)) {
    RETURN_IF_ERROR(SwitchReshardPrimary(ts, wf, wf.old_shards, wf.new_shards, /*reverse_streams=*/true,
                                  options, &steps));
  }
  Json out;
  out["keyspace"] = wf.keyspace;
  out["steps"] = steps;
  return out;
}

absl::StatusOr<nlohmann::json> ReverseTraffic(topo::Server& ts, absl::string_view keyspace,
                                              const std::vector<topodata::TabletType>& types,
                                              const SwitchOptions& options) {
  ASSIGN_OR_RETURN(auto lock, ts.LockKeyspace(keyspace, "ReverseTraffic", options.lock_timeout));
  ASSIGN_OR_RETURN(KeyspaceWorkflow found, FindKeyspaceWorkflow(ts, keyspace));
  if (auto* move = std::get_if<MoveTablesWorkflow>(&found)) {
    return SwitchMoveTables(ts, *std::move(move), types, /*reverse=*/true, options);
  }
  ReshardWorkflow wf = std::get<ReshardWorkflow>(std::move(found));
  RETURN_IF_ERROR(ClearDormantStreams(ts, wf));
  std::vector<topodata::TabletType> chosen = types;
  if (chosen.empty()) {
    for (topodata::TabletType t : {topodata::PRIMARY, topodata::REPLICA, topodata::RDONLY}) {
      bool any = false;
      for (const std::string& s : wf.new_shards) any = any || wf.Serves(s, t);
      if (any) chosen.push_back(t);
    }
    if (chosen.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no traffic of keyspace ", keyspace, " goes to ", absl::StrJoin(wf.new_shards, ","),
          "; nothing to reverse"));
    }
  }
  Json steps = Json::array();
  if (HasTabletType(chosen, topodata::PRIMARY)) {
    if (!wf.reversed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "primary traffic of keyspace ", keyspace, " was not switched; nothing to reverse"));
    }
    RETURN_IF_ERROR(SwitchReshardPrimary(ts, wf, wf.new_shards, wf.old_shards,
                                  /*reverse_streams=*/false, options, &steps));
  }
  RETURN_IF_ERROR(MoveReadTypes(ts, wf, chosen, /*to_new=*/false, options, &steps));
  Json out;
  out["keyspace"] = wf.keyspace;
  out["steps"] = steps;
  return out;
}

absl::StatusOr<nlohmann::json> Complete(topo::Server& ts, absl::string_view keyspace,
                                        bool drop_data, const SwitchOptions& options) {
  ASSIGN_OR_RETURN(auto lock, ts.LockKeyspace(keyspace, "Complete", options.lock_timeout));
  ASSIGN_OR_RETURN(KeyspaceWorkflow found, FindKeyspaceWorkflow(ts, keyspace));
  if (auto* move = std::get_if<MoveTablesWorkflow>(&found)) {
    return CompleteMoveTables(ts, *move, drop_data, options);
  }
  ReshardWorkflow wf = std::get<ReshardWorkflow>(std::move(found));
  if (!wf.reversed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "primary traffic of keyspace ", keyspace,
        " was not switched yet: run SwitchTraffic --tablet-types rdonly,replica and then "
        "--tablet-types primary first"));
  }
  for (const std::string& s : wf.old_shards) {
    if (wf.shards.at(s).served_types_size() > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "old shard ", keyspace, "/", s,
          " still serves some tablet types; switch rdonly and replica traffic first"));
    }
  }
  Json steps = Json::array();
  for (const std::string& s : wf.old_shards) {
    RETURN_IF_ERROR(ts.UpdateShardFields(keyspace, s, [](topodata::Shard& rec) -> absl::Status {
                        rec.clear_source_shards();
                        return absl::OkStatus();
                      }).status());
    RETURN_IF_ERROR(SyncShardStreams(ts, keyspace, s));
  }
  steps.push_back(absl::StrCat("removed the reverse streams into ",
                               absl::StrJoin(wf.old_shards, ",")));
  Progress(options, steps.back());
  if (drop_data) {
    ASSIGN_OR_RETURN(topodata::VSchema vschema, ts.GetVSchema(keyspace));
    std::vector<std::string> tables;
    for (const auto& [table, unused] : vschema.tables()) tables.push_back(table);
    for (const std::string& s : wf.old_shards) {
      ASSIGN_OR_RETURN(int64_t rows, DeleteRows(ts, keyspace, s, tables));
      steps.push_back(absl::StrCat("deleted ", rows, " rows from ", keyspace, "/", s));
      Progress(options, steps.back());
    }
  }
  Json out;
  out["keyspace"] = wf.keyspace;
  out["steps"] = steps;
  out["message"] = absl::StrCat(
      "the workflow is complete; ", absl::StrJoin(wf.old_shards, ","),
      " serve nothing: stop their tablets, then remove them with DeleteShard");
  return out;
}

}  // namespace shale::ctl
