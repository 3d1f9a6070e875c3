#include "ctl/primary_switch.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "changes/keyspace_position.h"
#include "ctl/reshard_workflow.h"
#include "key/key_range.h"

namespace shale::ctl {
namespace {

void Progress(const SwitchOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
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

void Thaw(std::vector<Side>& frozen, const tablet::ThawWritesRequest& req, const SwitchOptions& o,
          absl::string_view keyspace) {
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

absl::Status ClearSourceShards(topo::Server& ts, absl::string_view keyspace,
                               absl::string_view shard) {
  return ts.UpdateShardFields(keyspace, shard, [](topodata::Shard& rec) -> absl::Status {
             rec.clear_source_shards();
             return absl::OkStatus();
           }).status();
}

}  // namespace

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

absl::StatusOr<ShardStreams> RunningStreams(topo::Server& ts, absl::string_view keyspace,
                                            const std::vector<std::string>& followers,
                                            const std::map<std::string, topodata::Shard>& shards,
                                            bool require_running) {
  ShardStreams out;
  for (const std::string& f : followers) {
    ASSIGN_OR_RETURN(tablet::StreamStatusResponse r, ShardStreamStatus(ts, keyspace, f));
    const int want = shards.at(f).source_shards_size();
    if (r.streams_size() != want) {
      return absl::FailedPreconditionError(
          absl::StrCat("the primary of ", keyspace, "/", f, " runs ", r.streams_size(),
                       " streams but its Shard record lists ", want, "; try again shortly"));
    }
    for (const auto& s : r.streams()) {
      if (require_running && s.phase() != tablet::RUNNING) {
        return absl::FailedPreconditionError(absl::StrCat(
            "stream ", s.uid(), " into ", keyspace, "/", f, " from ", s.source_keyspace(), "/",
            s.source_shard(), " is ", tablet::StreamPhase_Name(s.phase()),
            s.last_error().empty() ? "" : absl::StrCat(" (", s.last_error(), ")"),
            "; switch once every stream is RUNNING (ReshardStatus)"));
      }
      out[f].push_back(s);
    }
  }
  return out;
}

absl::Status SwitchPrimary(topo::Server& ts, const PrimarySwitch& sw, const SwitchOptions& o,
                           nlohmann::json* steps) {
  const std::string& fks = sw.from_keyspace;
  const std::string& tks = sw.to_keyspace;
  const std::string from_names = absl::StrCat(fks, "/", absl::StrJoin(sw.from, ","));
  const std::string to_names = absl::StrCat(tks, "/", absl::StrJoin(sw.to, ","));
  ASSIGN_OR_RETURN(std::vector<Side> frozen, Dial(ts, fks, sw.from));
  ASSIGN_OR_RETURN(std::vector<Side> following, Dial(ts, tks, sw.to));
  auto step = [&](const std::string& line, absl::Time since) {
    const std::string s =
        absl::StrCat(line, " (", absl::FormatDuration(absl::Trunc(absl::Now() - since,
                                                                  absl::Microseconds(100))),
                     ")");
    Progress(o, s);
    steps->push_back(s);
  };
  const tablet::ThawWritesRequest go_on;  // writes go on where they were

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
      Thaw(frozen, go_on, o, fks);
      return absl::Status(r.status().code(), absl::StrCat("freezing writes on ", fks, "/", s.shard,
                                                          ": ", r.status().message(),
                                                          "; nothing changed"));
    }
    s.frozen = true;
    s.frozen_at = r->position();
  }
  step(absl::StrCat("froze writes on ", from_names), freeze_start);

  // 2. Wait until every stream applied its source's last write.
  const absl::Time catch_up_start = absl::Now();
  for (const auto& [shard, list] : sw.streams) {
    ASSIGN_OR_RETURN(auto client, ShardPrimaryClient(ts, tks, shard));
    for (const tablet::StreamState& st : list) {
      auto src = std::find_if(frozen.begin(), frozen.end(), [&](const Side& s) {
        return s.shard == st.source_shard() && st.source_keyspace() == fks;
      });
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
        Thaw(frozen, go_on, o, fks);
        return absl::Status(
            w.code(),
            absl::StrCat(tks, "/", shard, " did not apply ", fks, "/", st.source_shard(),
                         "'s writes up to ", changes::FormatChangePosition(src->frozen_at),
                         " within ", absl::FormatDuration(o.catch_up_timeout), ": ", w.message(),
                         "; nothing changed, writes go on at ", from_names));
      }
    }
  }
  step(absl::StrCat(to_names, " caught up"), catch_up_start);

  // 3. Where the reverse streams start: each following primary's position.
  for (Side& s : following) {
    absl::StatusOr<tablet::PrimaryPositionResponse> r =
        s.client->Call(s.client->replication(), &tablet::Replication::Stub::PrimaryPosition,
                       tablet::PrimaryPositionRequest(), absl::Seconds(10));
    if (!r.ok()) {
      Thaw(frozen, go_on, o, fks);
      return absl::Status(r.status().code(),
                          absl::StrCat("position of ", tks, "/", s.shard, ": ",
                                       r.status().message(), "; nothing changed"));
    }
    s.position = r->position();
  }

  // Undo for a failure before the flip: streams back as they were, writes
  // go on at `from`.
  auto undo = [&](const absl::Status& cause) {
    for (const std::string& s : sw.from) {
      ts.UpdateShardFields(fks, s, [&](topodata::Shard& rec) -> absl::Status {
          *rec.mutable_source_shards() = sw.from_records.at(s).source_shards();
          return absl::OkStatus();
        }).IgnoreError();
      SyncShardStreams(ts, fks, s).IgnoreError();
    }
    for (const std::string& s : sw.to) {
      ts.UpdateShardFields(tks, s, [&](topodata::Shard& rec) -> absl::Status {
          *rec.mutable_source_shards() = sw.to_records.at(s).source_shards();
          return absl::OkStatus();
        }).IgnoreError();
      SyncShardStreams(ts, tks, s).IgnoreError();
    }
    Thaw(frozen, go_on, o, fks);
    return absl::Status(cause.code(), absl::StrCat(cause.message(),
                                                   "; the switch was undone, writes go on at ",
                                                   from_names));
  };

  // 4. Streams the other way, from the following side's current positions.
  const absl::Time turn_start = absl::Now();
  for (const std::string& f : sw.from) {
    const key::KeyRange fr = key::KeyRange::FromProto(sw.from_records.at(f).key_range());
    absl::Status u = ts.UpdateShardFields(fks, f, [&](topodata::Shard& rec) -> absl::Status {
                         rec.clear_source_shards();
                         uint32_t uid = 0;
                         for (const Side& t : following) {
                           const auto& tr = sw.to_records.at(t.shard).key_range();
                           if (!fr.Overlaps(key::KeyRange::FromProto(tr))) continue;
                           auto* src = rec.add_source_shards();
                           src->set_uid(++uid);
                           src->set_keyspace(tks);
                           src->set_shard(t.shard);
                           *src->mutable_key_range() = tr;
                           for (const std::string& table : sw.tables) src->add_tables(table);
                           src->set_start_seq(t.position.seq());
                           src->set_start_term(t.position.term());
                           src->set_reverse(sw.reverse_streams);
                         }
                         return absl::OkStatus();
                       }).status();
    if (u.ok()) u = SyncShardStreams(ts, fks, f);
    if (!u.ok()) return undo(u);
  }
  // 5. Stop the streams into the following side: nothing more is applied
  // there once SyncStreams answers.
  for (const std::string& t : sw.to) {
    absl::Status u = ClearSourceShards(ts, tks, t);
    if (u.ok()) u = SyncShardStreams(ts, tks, t);
    if (!u.ok()) return undo(u);
  }
  step("turned the streams round", turn_start);

  // 6. Flip PRIMARY.
  const absl::Time flip_start = absl::Now();
  absl::Status flip = sw.flip();
  if (!flip.ok()) {
    sw.unflip();
    return undo(flip);
  }
  step(absl::StrCat("primary traffic now goes to ", to_names), flip_start);
  // The streams into `from` were dormant while it served PRIMARY; start
  // them now rather than when the tablets see the record.
  for (const std::string& f : sw.from) {
    absl::Status s = SyncShardStreams(ts, fks, f);
    if (!s.ok()) Progress(o, absl::StrCat("warning: ", s.message()));
  }

  // 7. The writes that waited are re-planned by the gateways.
  Thaw(frozen, sw.thaw, o, fks);
  step("released the held writes; writes were frozen for", freeze_start);
  return absl::OkStatus();
}

}  // namespace shale::ctl
