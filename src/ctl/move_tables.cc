#include "ctl/move_tables.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "ctl/primary_switch.h"
#include "ctl/rebuild.h"
#include "ctl/reshard_workflow.h"
#include "key/key_range.h"

namespace shale::ctl {
namespace {

using Json = nlohmann::json;

constexpr char kHashVindex[] = "hash";

constexpr topodata::TabletType kAllTypes[] = {topodata::PRIMARY, topodata::REPLICA,
                                              topodata::RDONLY};

template <typename Options>
void Progress(const Options& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

// Adds the tables to, or removes them from, each shard's denied_tables.
absl::Status SetDenied(topo::Server& ts, absl::string_view keyspace,
                       const std::vector<std::string>& shards,
                       const std::vector<std::string>& tables, bool deny) {
  for (const std::string& s : shards) {
    RETURN_IF_ERROR(ts.UpdateShardFields(keyspace, s, [&](topodata::Shard& rec) -> absl::Status {
                        auto* d = rec.mutable_denied_tables();
                        d->erase(std::remove_if(d->begin(), d->end(),
                                                [&](const std::string& t) {
                                                  return TableListed(tables, t);
                                                }),
                                 d->end());
                        if (deny) {
                          for (const std::string& t : tables) rec.add_denied_tables(t);
                        }
                        return absl::OkStatus();
                      }).status());
  }
  return absl::OkStatus();
}

// Removes the MoveTables streams from the shards' records and makes their
// primaries stop them.
absl::Status RemoveMoveStreams(topo::Server& ts, absl::string_view keyspace,
                               const std::vector<std::string>& shards) {
  for (const std::string& s : shards) {
    RETURN_IF_ERROR(ts.UpdateShardFields(keyspace, s, [&](topodata::Shard& rec) -> absl::Status {
                        auto* src = rec.mutable_source_shards();
                        src->erase(std::remove_if(src->begin(), src->end(),
                                                  [&](const auto& x) {
                                                    return IsMoveStream(x, keyspace);
                                                  }),
                                   src->end());
                        return absl::OkStatus();
                      }).status());
    RETURN_IF_ERROR(SyncShardStreams(ts, keyspace, s));
  }
  return absl::OkStatus();
}

// Routes the tables, for the types, to the target keyspace (at_target) or
// back to the source, in both Keyspace records, and rebuilds both graphs.
absl::Status SetRoutes(topo::Server& ts, const MoveTablesWorkflow& wf,
                       const std::vector<topodata::TabletType>& types, bool at_target) {
  auto update = [&](const std::string& keyspace, const std::string& other, bool add) {
    return ts.UpdateKeyspaceFields(keyspace, [&](topodata::Keyspace& rec) -> absl::Status {
                 auto* rules = rec.mutable_routing_rules();
                 rules->erase(std::remove_if(rules->begin(), rules->end(),
                                             [&](const auto& r) {
                                               return TableListed(wf.tables, r.table()) &&
                                                      HasTabletType(types, r.tablet_type());
                                             }),
                              rules->end());
                 if (!add) return absl::OkStatus();
                 for (const std::string& t : wf.tables) {
                   for (topodata::TabletType type : types) {
                     auto* r = rec.add_routing_rules();
                     r->set_table(t);
                     r->set_tablet_type(type);
                     r->set_to_keyspace(other);
                   }
                 }
                 return absl::OkStatus();
               })
        .status();
  };
  RETURN_IF_ERROR(update(wf.source_keyspace, wf.target_keyspace, at_target));
  RETURN_IF_ERROR(update(wf.target_keyspace, wf.source_keyspace, !at_target));
  RETURN_IF_ERROR(RebuildKeyspaceGraph(ts, wf.source_keyspace, {}, false));
  return RebuildKeyspaceGraph(ts, wf.target_keyspace, {}, false);
}

// Whether the target keyspace serves the tables to the type: the source's
// Keyspace record routes them there.
absl::StatusOr<bool> TargetServes(topo::Server& ts, const MoveTablesWorkflow& wf,
                                  topodata::TabletType type) {
  ASSIGN_OR_RETURN(topo::KeyspaceInfo ks, ts.GetKeyspace(wf.source_keyspace));
  for (const auto& r : ks.record.routing_rules()) {
    if (r.tablet_type() == type && TableListed(wf.tables, r.table()) &&
        r.to_keyspace() == wf.target_keyspace) {
      return true;
    }
  }
  return false;
}

// PRIMARY of the tables to the target (at_target) or back: the side that
// serves them next stops denying them first, then the other side denies
// them, then the routes and graphs change.
absl::Status FlipPrimary(topo::Server& ts, const MoveTablesWorkflow& wf, bool at_target) {
  if (at_target) {
    RETURN_IF_ERROR(SetDenied(ts, wf.target_keyspace, wf.targets, wf.tables, false));
    RETURN_IF_ERROR(SetDenied(ts, wf.source_keyspace, wf.sources, wf.tables, true));
  } else {
    RETURN_IF_ERROR(SetDenied(ts, wf.source_keyspace, wf.sources, wf.tables, false));
    RETURN_IF_ERROR(SetDenied(ts, wf.target_keyspace, wf.targets, wf.tables, true));
  }
  return SetRoutes(ts, wf, {topodata::PRIMARY}, at_target);
}

absl::Status SwitchTablesPrimary(topo::Server& ts, const MoveTablesWorkflow& wf, bool to_target,
                                 const SwitchOptions& o, Json* steps) {
  PrimarySwitch sw;
  sw.from_keyspace = to_target ? wf.source_keyspace : wf.target_keyspace;
  sw.to_keyspace = to_target ? wf.target_keyspace : wf.source_keyspace;
  sw.from = to_target ? wf.sources : wf.targets;
  sw.to = to_target ? wf.targets : wf.sources;
  sw.from_records = to_target ? wf.source_records : wf.target_records;
  sw.to_records = to_target ? wf.target_records : wf.source_records;
  ASSIGN_OR_RETURN(sw.streams, RunningStreams(ts, sw.to_keyspace, sw.to, sw.to_records,
                                              /*require_running=*/true));
  sw.tables = wf.tables;
  sw.reverse_streams = to_target;
  sw.flip = [&] { return FlipPrimary(ts, wf, to_target); };
  sw.unflip = [&] { FlipPrimary(ts, wf, !to_target).IgnoreError(); };
  for (const std::string& t : wf.tables) sw.thaw.add_denied_tables(t);
  return SwitchPrimary(ts, sw, o, steps);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseTableList(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    const std::string t(absl::StripAsciiWhitespace(part));
    if (absl::StartsWithIgnoreCase(t, "_shale_") || absl::StartsWithIgnoreCase(t, "sqlite_")) {
      return absl::InvalidArgumentError(
          absl::StrCat("table ", t, " is internal and cannot be moved"));
    }
    if (TableListed(out, t)) return absl::InvalidArgumentError(absl::StrCat("table ", t, " is listed twice"));
    out.push_back(t);
  }
  if (out.empty()) return absl::InvalidArgumentError("the table list is empty");
  return out;
}

absl::StatusOr<nlohmann::json> MoveTables(topo::Server& ts, absl::string_view from,
                                          absl::string_view to,
                                          const std::vector<std::string>& tables,
                                          const ReshardOptions& options) {
  if (from == to) {
    return absl::InvalidArgumentError("--from and --to name the same keyspace");
  }
  for (absl::string_view ks : {from, to}) {
    absl::StatusOr<topo::KeyspaceInfo> k = ts.GetKeyspace(ks);
    if (absl::IsNotFound(k.status())) {
      return absl::NotFoundError(absl::StrCat("keyspace ", ks, " does not exist"));
    }
    RETURN_IF_ERROR(k.status());
  }
  ASSIGN_OR_RETURN(auto lock, ts.LockKeyspace(to,
                                              absl::StrCat("MoveTables ", absl::StrJoin(tables, ","),
                                                           " from ", from),
                                              options.lock_timeout));
  // No other workflow may involve either keyspace.
  for (absl::string_view ks : {from, to}) {
    absl::StatusOr<ReshardWorkflow> r = FindReshardWorkflow(ts, ks);
    if (r.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "keyspace ", ks, " is being resharded; finish that workflow with Complete first"));
    }
    if (!absl::IsNotFound(r.status())) return r.status();
    RETURN_IF_ERROR(CheckNoMoveTables(ts, ks));
  }
  ASSIGN_OR_RETURN(topodata::VSchema from_vs, ts.GetVSchema(from));
  ASSIGN_OR_RETURN(topodata::VSchema to_vs, ts.GetVSchema(to));
  ASSIGN_OR_RETURN(topo::KeyspaceInfo from_ks, ts.GetKeyspace(from));
  for (const std::string& t : tables) {
    if (!from_vs.tables().contains(t)) {
      return absl::NotFoundError(
          absl::StrCat("table ", t, " is not in keyspace ", from, "'s VSchema"));
    }
    if (to_vs.tables().contains(t)) {
      return absl::FailedPreconditionError(
          absl::StrCat("keyspace ", to, " already has a table ", t));
    }
    for (const auto& r : from_ks.record.routing_rules()) {
      if (absl::EqualsIgnoreCase(r.table(), t)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "table ", t, " of keyspace ", from, " was moved to keyspace ", r.to_keyspace(),
            " already; move it from there"));
      }
    }
  }
  MoveTablesWorkflow wf;
  wf.source_keyspace = std::string(from);
  wf.target_keyspace = std::string(to);
  wf.tables = tables;
  ASSIGN_OR_RETURN(wf.source_records, LoadShards(ts, from));
  ASSIGN_OR_RETURN(wf.target_records, LoadShards(ts, to));
  wf.sources = PrimaryShards(wf.source_records);
  wf.targets = PrimaryShards(wf.target_records);
  if (wf.sources.empty() || wf.targets.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "keyspace ", wf.sources.empty() ? from : to, " has no shard serving primary traffic"));
  }
  for (const std::string& s : wf.sources) RETURN_IF_ERROR(ShardPrimaryClient(ts, from, s).status());
  for (const std::string& s : wf.targets) RETURN_IF_ERROR(ShardPrimaryClient(ts, to, s).status());

  // The tables join the target's catalog with their ids and vindexes. An
  // unsharded target keeps them too: the streams filter each source's rows
  // by them, and an interrupted copy removes only its own source's rows.
  for (const std::string& t : tables) {
    topodata::VSchema::Table entry = from_vs.tables().at(t);
    const std::string& column = from_ks.record.sharding_column_name();
    if (entry.type() == topodata::VSchema::SHARDED && entry.column_vindexes_size() == 0 &&
        !column.empty()) {
      // Sharded by the source keyspace's column: say so, the target may
      // have another column or none.
      auto* cv = entry.add_column_vindexes();
      cv->set_column(absl::AsciiStrToLower(column));
      cv->set_name(std::string(kHashVindex));
      (*from_vs.mutable_vindexes())[std::string(kHashVindex)].set_type(std::string(kHashVindex));
    }
    for (const auto& cv : entry.column_vindexes()) {
      if (!to_vs.vindexes().contains(cv.name()) && from_vs.vindexes().contains(cv.name())) {
        (*to_vs.mutable_vindexes())[cv.name()] = from_vs.vindexes().at(cv.name());
      }
    }
    (*to_vs.mutable_tables())[t] = entry;
  }
  RETURN_IF_ERROR(ts.SaveVSchema(to, to_vs));
  Progress(options, absl::StrCat("added ", absl::StrJoin(tables, ","), " to keyspace ", to,
                                 "'s VSchema"));
  // Sessions on the target reach the tables in the source until the switch.
  std::vector<topodata::TabletType> all(std::begin(kAllTypes), std::end(kAllTypes));
  RETURN_IF_ERROR(SetRoutes(ts, wf, all, /*at_target=*/false));
  // Each target shard denies the tables and follows the overlapping sources.
  for (const std::string& t : wf.targets) {
    const key::KeyRange tr = key::KeyRange::FromProto(wf.target_records[t].key_range());
    std::vector<std::string> followed;
    RETURN_IF_ERROR(ts.UpdateShardFields(to, t, [&](topodata::Shard& rec) -> absl::Status {
                        followed.clear();
                        uint32_t uid = 0;
                        for (const auto& s : rec.source_shards()) uid = std::max(uid, s.uid());
                        auto* d = rec.mutable_denied_tables();
                        for (const std::string& table : tables) {
                          if (!TableListed({d->begin(), d->end()}, table)) rec.add_denied_tables(table);
                        }
                        for (const std::string& s : wf.sources) {
                          const auto& sr = wf.source_records[s].key_range();
                          if (!key::KeyRange::FromProto(sr).Overlaps(tr)) continue;
                          auto* src = rec.add_source_shards();
                          src->set_uid(++uid);
                          src->set_keyspace(std::string(from));
                          src->set_shard(s);
                          *src->mutable_key_range() = sr;
                          for (const std::string& table : tables) src->add_tables(table);
                          followed.push_back(s);
                        }
                        return absl::OkStatus();
                      }).status());
    Progress(options, absl::StrCat(to, "/", t, " follows ", from, "/",
                                   absl::StrJoin(followed, ","), " for ",
                                   absl::StrJoin(tables, ",")));
  }
  RETURN_IF_ERROR(StartStreams(ts, to, wf.targets));
  lock.reset();
  if (!options.wait) {
    Json out;
    out["source_keyspace"] = wf.source_keyspace;
    out["target_keyspace"] = wf.target_keyspace;
    out["tables"] = tables;
    out["message"] = absl::StrCat("started; follow the copy with ReshardStatus ", to);
    return out;
  }
  return WaitForCopy(ts, to, wf.targets, options);
}

absl::StatusOr<nlohmann::json> SwitchMoveTables(topo::Server& ts, MoveTablesWorkflow wf,
                                                std::vector<topodata::TabletType> types,
                                                bool reverse, const SwitchOptions& o) {
  RETURN_IF_ERROR(RemoveMoveStreams(ts, wf.source_keyspace, wf.dormant_sources));
  RETURN_IF_ERROR(RemoveMoveStreams(ts, wf.target_keyspace, wf.dormant_targets));
  for (const std::string& s : wf.dormant_sources) {
    ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(wf.source_keyspace, s));
    wf.source_records[s] = std::move(si.record);
  }
  for (const std::string& s : wf.dormant_targets) {
    ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(wf.target_keyspace, s));
    wf.target_records[s] = std::move(si.record);
  }
  Json steps = Json::array();
  const std::string what = absl::StrJoin(wf.tables, ",");
  auto move_reads = [&](bool at_target) -> absl::Status {
    std::vector<topodata::TabletType> reads;
    for (topodata::TabletType t : types) {
      if (t != topodata::PRIMARY) reads.push_back(t);
    }
    if (reads.empty()) return absl::OkStatus();
    RETURN_IF_ERROR(SetRoutes(ts, wf, reads, at_target));
    std::vector<std::string> names;
    for (topodata::TabletType t : reads) names.push_back(TabletTypeName(t));
    steps.push_back(absl::StrCat(absl::StrJoin(names, ","), " traffic of ", what, " now goes to ",
                                 at_target ? wf.target_keyspace : wf.source_keyspace));
    Progress(o, steps.back());
    return absl::OkStatus();
  };
  if (!reverse) {
    if (HasTabletType(types, topodata::PRIMARY) && wf.reversed) {
      return absl::FailedPreconditionError(absl::StrCat("primary traffic of ", what,
                                                        " already goes to keyspace ",
                                                        wf.target_keyspace,
                                                        " (ReverseTraffic moves it back)"));
    }
    if (!wf.reversed) {
      // Reads move only once the copy is done.
      RETURN_IF_ERROR(RunningStreams(ts, wf.target_keyspace, wf.targets, wf.target_records,
                                     /*require_running=*/true)
                          .status());
    }
    RETURN_IF_ERROR(move_reads(true));
    if (HasTabletType(types, topodata::PRIMARY)) {
      RETURN_IF_ERROR(SwitchTablesPrimary(ts, wf, /*to_target=*/true, o, &steps));
    }
  } else {
    if (types.empty()) {
      for (topodata::TabletType t : kAllTypes) {
        ASSIGN_OR_RETURN(bool served, TargetServes(ts, wf, t));
        if (served) types.push_back(t);
      }
      if (types.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("no traffic of ", what, " goes to keyspace ", wf.target_keyspace,
                         "; nothing to reverse"));
      }
    }
    if (HasTabletType(types, topodata::PRIMARY)) {
      if (!wf.reversed) {
        return absl::FailedPreconditionError(absl::StrCat(
            "primary traffic of ", what, " was not switched; nothing to reverse"));
      }
      RETURN_IF_ERROR(SwitchTablesPrimary(ts, wf, /*to_target=*/false, o, &steps));
    }
    RETURN_IF_ERROR(move_reads(false));
  }
  Json out;
  out["source_keyspace"] = wf.source_keyspace;
  out["target_keyspace"] = wf.target_keyspace;
  out["tables"] = wf.tables;
  out["steps"] = steps;
  return out;
}

absl::StatusOr<nlohmann::json> CompleteMoveTables(topo::Server& ts, const MoveTablesWorkflow& wf,
                                                  bool drop_data, const SwitchOptions& o) {
  const std::string what = absl::StrJoin(wf.tables, ",");
  if (!wf.reversed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "primary traffic of ", what, " was not switched to keyspace ", wf.target_keyspace,
        " yet: run SwitchTraffic ", wf.target_keyspace,
        " --tablet-types rdonly,replica and then --tablet-types primary first"));
  }
  for (topodata::TabletType t : kAllTypes) {
    ASSIGN_OR_RETURN(bool served, TargetServes(ts, wf, t));
    if (!served) {
      return absl::FailedPreconditionError(absl::StrCat(
          TabletTypeName(t), " traffic of ", what, " still goes to keyspace ", wf.source_keyspace,
          "; switch rdonly and replica traffic first"));
    }
  }
  Json steps = Json::array();
  std::vector<std::string> followers;
  for (const auto& [name, rec] : wf.source_records) {
    for (const auto& s : rec.source_shards()) {
      if (IsMoveStream(s, wf.source_keyspace)) {
        followers.push_back(name);
        break;
      }
    }
  }
  RETURN_IF_ERROR(RemoveMoveStreams(ts, wf.source_keyspace, followers));
  steps.push_back(absl::StrCat("removed the reverse streams into ", wf.source_keyspace, "/",
                               absl::StrJoin(followers, ",")));
  Progress(o, steps.back());
  if (drop_data) {
    for (const std::string& s : wf.sources) {
      ASSIGN_OR_RETURN(int64_t rows, DeleteRows(ts, wf.source_keyspace, s, wf.tables));
      steps.push_back(absl::StrCat("deleted ", rows, " rows of ", what, " from ",
                                   wf.source_keyspace, "/", s));
      Progress(o, steps.back());
    }
  }
  Json out;
  out["source_keyspace"] = wf.source_keyspace;
  out["target_keyspace"] = wf.target_keyspace;
  out["tables"] = wf.tables;
  out["steps"] = steps;
  out["message"] = absl::StrCat(
      "the workflow is complete; keyspace ", wf.target_keyspace, " serves ", what,
      ". Keyspace ", wf.source_keyspace,
      " keeps routing rules that send its sessions' statements on them to ", wf.target_keyspace,
      ", and its shards refuse them");
  return out;
}

absl::StatusOr<nlohmann::json> MoveTablesStatus(topo::Server& ts, const MoveTablesWorkflow& wf) {
  Json out;
  out["workflow"] = "MoveTables";
  out["source_keyspace"] = wf.source_keyspace;
  out["target_keyspace"] = wf.target_keyspace;
  out["tables"] = wf.tables;
  out["primary_switched"] = wf.reversed;
  Json serving = Json::object();
  for (topodata::TabletType t : kAllTypes) {
    ASSIGN_OR_RETURN(bool served, TargetServes(ts, wf, t));
    serving[TabletTypeName(t)] = served ? wf.target_keyspace : wf.source_keyspace;
  }
  out["served_by"] = serving;
  if (!wf.dormant_sources.empty() || !wf.dormant_targets.empty()) {
    out["interrupted_switch"] =
        "dormant streams were left by an interrupted primary switch; the next SwitchTraffic or "
        "ReverseTraffic removes them";
  }
  const std::string& ks = wf.reversed ? wf.source_keyspace : wf.target_keyspace;
  Json streams = Json::array();
  for (const std::string& f : wf.reversed ? wf.sources : wf.targets) {
    absl::StatusOr<tablet::StreamStatusResponse> r = ShardStreamStatus(ts, ks, f);
    if (!r.ok()) {
      Json j;
      j["shard"] = absl::StrCat(ks, "/", f);
      j["error"] = std::string(r.status().message());
      streams.push_back(j);
      continue;
    }
    for (const auto& s : r->streams()) streams.push_back(StreamJson(absl::StrCat(ks, "/", f), s));
  }
  out["streams"] = streams;
  return out;
}

}  // namespace shale::ctl
