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
#include "ctl/rebuild.h"
#include "ctl/reshard_workflow.h"
#include "key/key_range.h"

namespace shale::ctl {
namespace {

using Json = nlohmann::json;

void Progress(const SwitchOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

std::string TypeName(topodata::TabletType t) {
  return absl::AsciiStrToLower(topodata::TabletType_Name(t));
}

bool Has(const std::vector<topodata::TabletType>& types, topodata::TabletType t) {
  return std::find(types.begin(), types.end(), t) != types.end();
}

// Sets whether each shard serves `type` (every cell).
absl::Status SetServing(topo::Server& ts, absl::string_view keyspace,
                        const std::vector<std::string>& shards, topodata::TabletType type,
                        bool serve) {
  for (const std::string& s : shards) {
    RETURN_IF_ERROR(
        ts.UpdateShardFields(keyspace, s, [&](topodata::Shard& rec) -> absl::Status {
            auto* types = rec.mutable_served_types();
            types->erase(std::remove_if(types->begin(), types->end(),
                                        [&](const auto& st) { return st.tablet_type() == type; }),
                         types->end());
            if (serve) rec.add_served_types()->set_tablet_type(type);
            return absl::OkStatus();
          }).status());
  }
  return absl::OkStatus();
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
    moved.push_back(TypeName(t));
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

// One shard's primary during the primary switch.
struct Side {
  std::string shard;
  std::unique_ptr<tablet::TabletClient> client;
  tablet::ChangePosition frozen_at;  // FreezeWrites' answer (frozen side)
  tablet::LogPosition position;      // PrimaryPosition (following side)
  bool frozen = false;
};

absl::StatusOr<std::vector<Side>> Dial(topo::Server& ts, absl::string_view keyspace,
                                       const std::vector<std::string>& shards) {
  std::vector<Side> out;
  for (const std::string& s : shards) {
    Side side;
    side.shard = s;
    ASSIGN_OR_RETURN(side.client, ShardPrimaryClient(ts, keyspace, s));
    out.push_back(std::move(side));
  }
  return out;
}

void Thaw(std::vector<Side>& frozen, bool resharded, const SwitchOptions& o,
          absl::string_view keyspace) {
  tablet::ThawWritesRequest req;
  req.set_resharded(resharded);
  for (Side& s : frozen) {
    if (!s.frozen) continue;
    absl::Status st = s.client->Call(s.client->reshard(), &tablet::Reshard::Stub::ThawWrites, req,
                                     absl::Seconds(10))
                          .status();
    if (!st.ok()) {
      Progress(o, absl::StrCat("warning: thawing ", keyspace, "/", s.shard, ": ", st.message(),
                               " (the tablet thaws by itself when its freeze expires)"));
    }
    s.frozen = false;
  }
}

// The streams the followers run, by follower shard: uid → source shard.
absl::StatusOr<std::map<std::string, std::vector<tablet::StreamState>>> FollowerStreams(
    topo::Server& ts, const ReshardWorkflow& wf, bool require_running) {
  std::map<std::string, std::vector<tablet::StreamState>> out;
  for (const std::string& f : wf.followers()) {
    ASSIGN_OR_RETURN(tablet::StreamStatusResponse r, ShardStreamStatus(ts, wf.keyspace, f));
    const int want = wf.shards.at(f).source_shards_size();
    if (r.streams_size() != want) {
      return absl::FailedPreconditionError(
          absl::StrCat("the primary of ", wf.keyspace, "/", f, " runs ", r.streams_size(),
                       " streams but its Shard record lists ", want, "; try again shortly"));
    }
    for (const auto& s : r.streams()) {
      if (require_running && s.phase() != tablet::RUNNING) {
        return absl::FailedPreconditionError(absl::StrCat(
            "stream ", s.uid(), " into ", wf.keyspace, "/", f, " from ", s.source_shard(),
            " is ", tablet::StreamPhase_Name(s.phase()),
            s.last_error().empty() ? "" : absl::StrCat(" (", s.last_error(), ")"),
            "; switch once every stream is RUNNING (ReshardStatus)"));
      }
      out[f].push_back(s);
    }
  }
  return out;
}

// The primary switch from the serving side `from` to the following side
// `to`; the streams that start into `from` get reverse = reverse_streams.
absl::Status SwitchPrimary(topo::Server& ts, const ReshardWorkflow& wf,
                           const std::vector<std::string>& from,
                           const std::vector<std::string>& to, bool reverse_streams,
                           const SwitchOptions& o, Json* steps) {
  const std::string& ks = wf.keyspace;
  ASSIGN_OR_RETURN(auto streams, FollowerStreams(ts, wf, /*require_running=*/true));
  ASSIGN_OR_RETURN(std::vector<Side> frozen, Dial(ts, ks, from));
  ASSIGN_OR_RETURN(std::vector<Side> following, Dial(ts, ks, to));
  auto step = [&](const std::string& line, absl::Time since) {
    const std::string s =
        absl::StrCat(line, " (", absl::FormatDuration(absl::Trunc(absl::Now() - since,
                                                                  absl::Microseconds(100))),
                     ")");
    Progress(o, s);
    steps->push_back(s);
  };

  // 1. Freeze the serving side's writes.
  const absl::Time freeze_start = absl::Now();
  tablet::FreezeWritesRequest freeze;
  freeze.set_max_freeze_ms(absl::ToInt64Milliseconds(o.catch_up_timeout + absl::Seconds(20)));
  freeze.set_grace_ms(absl::ToInt64Milliseconds(o.grace));
  for (Side& s : frozen) {
    absl::StatusOr<tablet::FreezeWritesResponse> r = s.client->Call(
        s.client->reshard(), &tablet::Reshard::Stub::FreezeWrites, freeze,
        o.grace + absl::Seconds(30));
    if (!r.ok()) {
      Thaw(frozen, false, o, ks);
      return absl::Status(r.status().code(), absl::StrCat("freezing writes on ", ks, "/", s.shard,
                                                          ": ", r.status().message(),
                                                          "; nothing changed"));
    }
    s.frozen = true;
    s.frozen_at = r->position();
  }
  step(absl::StrCat("froze writes on ", absl::StrJoin(from, ",")), freeze_start);

  // 2. Wait until every stream applied its source's last write.
  const absl::Time catch_up_start = absl::Now();
  for (const auto& [shard, list] : streams) {
    ASSIGN_OR_RETURN(auto client, ShardPrimaryClient(ts, ks, shard));
    for (const tablet::StreamState& st : list) {
      auto src = std::find_if(frozen.begin(), frozen.end(),
                              [&](const Side& s) { return s.shard == st.source_shard(); });
      if (src == frozen.end()) continue;
      tablet::WaitForStreamRequest req;
      req.set_uid(st.uid());
      *req.mutable_position() = src->frozen_at;
      const absl::Duration left = o.catch_up_timeout - (absl::Now() - catch_up_start);
      req.set_timeout_ms(std::max<int64_t>(1, absl::ToInt64Milliseconds(left)));
      absl::Status w = client->Call(client->reshard(), &tablet::Reshard::Stub::WaitForStream, req,
                                    left + absl::Seconds(5))
                           .status();
      if (!w.ok()) {
        Thaw(frozen, false, o, ks);
        return absl::Status(
            w.code(),
            absl::StrCat(ks, "/", shard, " did not apply ", st.source_shard(), "'s writes up to ",
                         changes::FormatChangePosition(src->frozen_at), " within ",
                         absl::FormatDuration(o.catch_up_timeout), ": ", w.message(),
                         "; nothing changed, writes go on at ", absl::StrJoin(from, ",")));
      }
    }
  }
  step(absl::StrCat(absl::StrJoin(to, ","), " caught up"), catch_up_start);

  // 3. Where the reverse streams start: each following primary's position.
  for (Side& s : following) {
    absl::StatusOr<tablet::PrimaryPositionResponse> r =
        s.client->Call(s.client->replication(), &tablet::Replication::Stub::PrimaryPosition,
                       tablet::PrimaryPositionRequest(), absl::Seconds(10));
    if (!r.ok()) {
      Thaw(frozen, false, o, ks);
      return absl::Status(r.status().code(),
                          absl::StrCat("position of ", ks, "/", s.shard, ": ",
                                       r.status().message(), "; nothing changed"));
    }
    s.position = r->position();
  }

  // Undo for a failure before the flip: streams back as they were, writes
  // go on at `from`.
  std::map<std::string, topodata::Shard> before = wf.shards;
  auto undo = [&](const absl::Status& cause) {
    for (const std::string& s : from) {
      ts.UpdateShardFields(ks, s, [](topodata::Shard& rec) -> absl::Status {
          rec.clear_source_shards();
          return absl::OkStatus();
        }).IgnoreError();
      SyncShardStreams(ts, ks, s).IgnoreError();
    }
    for (const std::string& s : to) {
      ts.UpdateShardFields(ks, s, [&](topodata::Shard& rec) -> absl::Status {
          *rec.mutable_source_shards() = before[s].source_shards();
          return absl::OkStatus();
        }).IgnoreError();
      SyncShardStreams(ts, ks, s).IgnoreError();
    }
    Thaw(frozen, false, o, ks);
    return absl::Status(cause.code(),
                        absl::StrCat(cause.message(), "; the switch was undone, writes go on at ",
                                     absl::StrJoin(from, ",")));
  };

  // 4. Streams the other way, from the following side's current positions.
  const absl::Time turn_start = absl::Now();
  for (const std::string& f : from) {
    const key::KeyRange fr = key::KeyRange::FromProto(wf.shards.at(f).key_range());
    absl::Status u = ts.UpdateShardFields(ks, f, [&](topodata::Shard& rec) -> absl::Status {
                         rec.clear_source_shards();
                         uint32_t uid = 0;
                         for (const Side& t : following) {
                           const auto& tr = wf.shards.at(t.shard).key_range();
                           if (!fr.Overlaps(key::KeyRange::FromProto(tr))) continue;
                           auto* src = rec.add_source_shards();
                           src->set_uid(++uid);
                           src->set_keyspace(ks);
                           src->set_shard(t.shard);
                           *src->mutable_key_range() = tr;
                           src->set_start_seq(t.position.seq());
                           src->set_start_term(t.position.term());
                           src->set_reverse(reverse_streams);
                         }
                         return absl::OkStatus();
                       }).status();
    if (u.ok()) u = SyncShardStreams(ts, ks, f);
    if (!u.ok()) return undo(u);
  }
  // 5. Stop the streams into the following side: nothing more is applied
  // there once SyncStreams answers.
  for (const std::string& t : to) {
    absl::Status u = ts.UpdateShardFields(ks, t, [](topodata::Shard& rec) -> absl::Status {
                         rec.clear_source_shards();
                         return absl::OkStatus();
                       }).status();
    if (u.ok()) u = SyncShardStreams(ts, ks, t);
    if (!u.ok()) return undo(u);
  }
  step("turned the streams round", turn_start);

  // 6. Flip PRIMARY and rebuild every cell's serving graph.
  const absl::Time flip_start = absl::Now();
  absl::Status flip = SetServing(ts, ks, from, topodata::PRIMARY, false);
  if (flip.ok()) flip = SetServing(ts, ks, to, topodata::PRIMARY, true);
  if (flip.ok()) flip = RebuildKeyspaceGraph(ts, ks, {}, false);
  if (!flip.ok()) {
    SetServing(ts, ks, to, topodata::PRIMARY, false).IgnoreError();
    SetServing(ts, ks, from, topodata::PRIMARY, true).IgnoreError();
    RebuildKeyspaceGraph(ts, ks, {}, true).IgnoreError();
    return undo(flip);
  }
  step(absl::StrCat("primary traffic now goes to ", absl::StrJoin(to, ",")), flip_start);
  // The streams into `from` were dormant while it served PRIMARY; start
  // them now rather than when the tablets see the record.
  for (const std::string& f : from) {
    absl::Status s = SyncShardStreams(ts, ks, f);
    if (!s.ok()) Progress(o, absl::StrCat("warning: ", s.message()));
  }

  // 7. The writes that waited are re-planned by the gateways.
  Thaw(frozen, true, o, ks);
  step(absl::StrCat("released the held writes; writes were frozen for"), freeze_start);
  return absl::OkStatus();
}

}  // namespace

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
    if (!Has(out, t)) out.push_back(t);
  }
  if (out.empty()) return absl::InvalidArgumentError("no tablet types given");
  return out;
}

absl::StatusOr<nlohmann::json> SwitchTraffic(topo::Server& ts, absl::string_view keyspace,
                                             const std::vector<topodata::TabletType>& types,
                                             const SwitchOptions& options) {
  ASSIGN_OR_RETURN(auto lock, ts.LockKeyspace(keyspace, "SwitchTraffic", options.lock_timeout));
  ASSIGN_OR_RETURN(ReshardWorkflow wf, FindReshardWorkflow(ts, keyspace));
  RETURN_IF_ERROR(ClearDormantStreams(ts, wf));
  Json steps = Json::array();
  if (Has(types, topodata::PRIMARY) && wf.reversed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "primary traffic of keyspace ", keyspace, " already goes to ",
        absl::StrJoin(wf.new_shards, ","), " (ReverseTraffic moves it back)"));
  }
  if (!wf.reversed) {
    // Reads move only once the copy is done.
    RETURN_IF_ERROR(FollowerStreams(ts, wf, /*require_running=*/true).status());
  }
  RETURN_IF_ERROR(MoveReadTypes(ts, wf, types, /*to_new=*/true, options, &steps));
  if (Has(types, topodata::PRIMARY)) {
    RETURN_IF_ERROR(SwitchPrimary(ts, wf, wf.old_shards, wf.new_shards, /*reverse_streams=*/true,
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
  ASSIGN_OR_RETURN(ReshardWorkflow wf, FindReshardWorkflow(ts, keyspace));
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
  if (Has(chosen, topodata::PRIMARY)) {
    if (!wf.reversed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "primary traffic of keyspace ", keyspace, " was not switched; nothing to reverse"));
    }
    RETURN_IF_ERROR(SwitchPrimary(ts, wf, wf.new_shards, wf.old_shards,
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
  ASSIGN_OR_RETURN(ReshardWorkflow wf, FindReshardWorkflow(ts, keyspace));
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
    for (const std::string& s : wf.old_shards) {
      ASSIGN_OR_RETURN(auto client, ShardPrimaryClient(ts, keyspace, s));
      int64_t rows = 0;
      for (const auto& [table, unused] : vschema.tables()) {
        tablet::ExecuteFetchAsDbaRequest req;
        req.set_sql(absl::StrCat("DELETE FROM \"", table, "\""));
        ASSIGN_OR_RETURN(tablet::ExecuteFetchAsDbaResponse r,
                         client->Call(client->manager(),
                                      &tablet::TabletManager::Stub::ExecuteFetchAsDba, req,
                                      absl::Minutes(10)));
        rows += r.result().rows_affected();
      }
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
