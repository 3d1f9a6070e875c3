#include "ctl/reshard_workflow.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "changes/keyspace_position.h"
#include "key/key_range.h"
#include "topo/tablet_alias.h"

namespace shale::ctl {

bool ReshardWorkflow::Serves(const std::string& shard, topodata::TabletType type) const {
  auto it = shards.find(shard);
  if (it == shards.end()) return false;
  for (const auto& st : it->second.served_types()) {
    if (st.tablet_type() == type && st.cells().empty()) return true;
  }
  return false;
}

absl::StatusOr<ReshardWorkflow> FindReshardWorkflow(topo::Server& ts, absl::string_view keyspace) {
  ReshardWorkflow wf;
  wf.keyspace = std::string(keyspace);
  ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListShards(keyspace));
  std::set<std::string> forward_followers, forward_sources, reverse_followers, reverse_sources;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(keyspace, name));
    for (const auto& src : si.record.source_shards()) {
      if (src.keyspace() != keyspace) continue;  // another keyspace's workflow (MoveTables)
      if (src.reverse()) {
        reverse_followers.insert(name);
        reverse_sources.insert(src.shard());
      } else {
        forward_followers.insert(name);
        forward_sources.insert(src.shard());
      }
    }
    wf.shards[name] = std::move(si.record);
  }
  if (forward_followers.empty() && reverse_followers.empty()) {
    return absl::NotFoundError(absl::StrCat("keyspace ", keyspace,
                                            " has no resharding workflow (start one with Reshard)"));
  }
  auto all_serve_primary = [&](const std::set<std::string>& names) {
    for (const std::string& n : names) {
      if (!wf.shards.contains(n) || !wf.Serves(n, topodata::PRIMARY)) return false;
    }
    return true;
  };
  if (!forward_followers.empty() && !reverse_followers.empty()) {
    // An interrupted primary switch: the streams into the side that still
    // writes are the ones the switch had just started.
    if (all_serve_primary(reverse_followers)) {
      wf.dormant.assign(reverse_followers.begin(), reverse_followers.end());
      reverse_followers.clear();
    } else if (all_serve_primary(forward_followers)) {
      wf.dormant.assign(forward_followers.begin(), forward_followers.end());
      forward_followers.clear();
    } else {
      return absl::FailedPreconditionError(absl::StrCat(
          "keyspace ", keyspace, " has forward streams (into ",
          absl::StrJoin(forward_followers, ","), ") and reverse streams (into ",
          absl::StrJoin(reverse_followers, ","),
          ") and neither side serves PRIMARY alone; fix the Shard records by hand"));
    }
  }
  wf.reversed = !reverse_followers.empty();
  const auto& followers = wf.reversed ? reverse_followers : forward_followers;
  const auto& sources = wf.reversed ? reverse_sources : forward_sources;
  auto by_range = [&](const std::set<std::string>& s) {
    std::vector<std::string> v(s.begin(), s.end());
    std::sort(v.begin(), v.end(), [&](const std::string& a, const std::string& b) {
      return wf.shards[a].key_range().start() < wf.shards[b].key_range().start();
    });
    return v;
  };
  for (const std::string& s : sources) {
    if (!wf.shards.contains(s)) {
      return absl::FailedPreconditionError(
          absl::StrCat("a stream of keyspace ", keyspace, " reads from shard ", s,
                       ", which does not exist"));
    }
  }
  if (wf.reversed) {
    wf.old_shards = by_range(followers);
    wf.new_shards = by_range(sources);
  } else {
    wf.old_shards = by_range(sources);
    wf.new_shards = by_range(followers);
  }
  return wf;
}

absl::StatusOr<std::unique_ptr<tablet::TabletClient>> ShardPrimaryClient(
    topo::Server& ts, absl::string_view keyspace, absl::string_view shard) {
  ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(keyspace, shard));
  if (!si.record.has_primary_alias() || si.record.primary_alias().uid() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "shard ", keyspace, "/", shard,
        " has no primary; start its tablets and elect one (ctld does, or PlannedReparentShard)"));
  }
  return tablet::TabletClient::ForTablet(ts, topo::TabletAlias::FromProto(si.record.primary_alias()));
}

absl::StatusOr<tablet::StreamStatusResponse> ShardStreamStatus(topo::Server& ts,
                                                               absl::string_view keyspace,
                                                               absl::string_view shard) {
  ASSIGN_OR_RETURN(auto client, ShardPrimaryClient(ts, keyspace, shard));
  return client->Call(client->reshard(), &tablet::Reshard::Stub::StreamStatus,
                      tablet::StreamStatusRequest(), absl::Seconds(10));
}

absl::Status ClearDormantStreams(topo::Server& ts, ReshardWorkflow& wf) {
  for (const std::string& shard : wf.dormant) {
    ASSIGN_OR_RETURN(topodata::Shard rec,
                     ts.UpdateShardFields(wf.keyspace, shard, [&](topodata::Shard& r) -> absl::Status {
                       r.clear_source_shards();
                       return absl::OkStatus();
                     }));
    wf.shards[shard] = std::move(rec);
    RETURN_IF_ERROR(SyncShardStreams(ts, wf.keyspace, shard));
  }
  wf.dormant.clear();
  return absl::OkStatus();
}

absl::Status SyncShardStreams(topo::Server& ts, absl::string_view keyspace,
                              absl::string_view shard) {
  ASSIGN_OR_RETURN(auto client, ShardPrimaryClient(ts, keyspace, shard));
  absl::StatusOr<tablet::SyncStreamsResponse> r =
      client->Call(client->reshard(), &tablet::Reshard::Stub::SyncStreams,
                   tablet::SyncStreamsRequest(), absl::Seconds(30));
  if (!r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat("the primary of ", keyspace, "/", shard,
                                                        ": ", r.status().message()));
  }
  return absl::OkStatus();
}

absl::Status StartStreams(topo::Server& ts, absl::string_view keyspace,
                          const std::vector<std::string>& shards) {
  for (const std::string& shard : shards) {
    absl::Status s = SyncShardStreams(ts, keyspace, shard);
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat(s.message(), " (the streams are recorded in the Shard "
                                                    "records; the primary starts them when it can)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> DeleteRows(topo::Server& ts, absl::string_view keyspace,
                                   absl::string_view shard, const std::vector<std::string>& tables) {
  ASSIGN_OR_RETURN(auto client, ShardPrimaryClient(ts, keyspace, shard));
  int64_t rows = 0;
  for (const std::string& table : tables) {
    tablet::ExecuteFetchAsDbaRequest req;
    req.set_sql(absl::StrCat("DELETE FROM \"", table, "\""));
    ASSIGN_OR_RETURN(tablet::ExecuteFetchAsDbaResponse r,
                     client->Call(client->manager(), &tablet::TabletManager::Stub::ExecuteFetchAsDba,
                                  req, absl::Minutes(10)));
    rows += r.result().rows_affected();
  }
  return rows;
}

nlohmann::json StreamJson(absl::string_view shard, const tablet::StreamState& s) {
  nlohmann::json j;
  j["shard"] = std::string(shard);
  j["uid"] = s.uid();
  j["source"] = absl::StrCat(s.source_keyspace(), "/", s.source_shard());
  j["reverse"] = s.reverse();
  std::string phase = tablet::StreamPhase_Name(s.phase());
  j["phase"] = phase;
  j["rows_copied"] = s.rows_copied();
  j["tables_copied"] = absl::StrCat(s.tables_copied(), "/", s.tables_total());
  if (!s.copying_table().empty()) j["copying_table"] = s.copying_table();
  j["position"] = changes::FormatChangePosition(s.position());
  j["events_applied"] = s.events_applied();
  j["lag_ms"] = s.lag_ms();
  if (!s.last_error().empty()) j["last_error"] = s.last_error();
  return j;
}

absl::StatusOr<std::vector<std::string>> ParseShardList(absl::string_view list) {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    ASSIGN_OR_RETURN(key::KeyRange r, key::KeyRange::Parse(part));
    if (r.ToString() != part) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard name \"", part, "\" is not canonical: use \"", r.ToString(), "\""));
    }
    out.emplace_back(r.start(), std::string(part));
  }
  if (out.empty()) return absl::InvalidArgumentError("the shard list is empty");
  std::sort(out.begin(), out.end());
  std::vector<std::string> names;
  for (auto& [start, name] : out) {
    if (!names.empty() && names.back() == name) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", name, " is listed twice"));
    }
    names.push_back(std::move(name));
  }
  return names;
}

namespace {

// The single range the shards tile, in order with no gap or overlap.
absl::StatusOr<key::KeyRange> Span(const std::vector<std::string>& shards) {
  std::vector<key::KeyRange> ranges;
  for (const std::string& s : shards) {
    ASSIGN_OR_RETURN(key::KeyRange r, key::KeyRange::Parse(s));
    ranges.push_back(r);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const key::KeyRange& a, const key::KeyRange& b) { return a.start() < b.start(); });
  for (size_t i = 1; i < ranges.size(); ++i) {
    const key::KeyRange& prev = ranges[i - 1];
    if (!prev.has_end() || prev.end() != ranges[i].start()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "shards ", prev.ToString(), " and ", ranges[i].ToString(),
          prev.has_end() && prev.end() < ranges[i].start() ? " leave a gap" : " overlap"));
    }
  }
  const key::KeyRange& last = ranges.back();
  if (!last.has_end()) return key::KeyRange::From(ranges.front().start());
  return key::KeyRange::Bounded(ranges.front().start(), last.end());
}

}  // namespace

absl::Status CheckSameRange(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  ASSIGN_OR_RETURN(key::KeyRange ra, Span(a));
  ASSIGN_OR_RETURN(key::KeyRange rb, Span(b));
  if (!(ra == rb)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the source shards cover ", ra.ToString(), " but the target shards cover ", rb.ToString(),
        "; both sides must cover the same key range"));
  }
  return absl::OkStatus();
}

}  // namespace shale::ctl
