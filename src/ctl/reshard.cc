#include "ctl/reshard.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ctl/move_tables.h"
#include "ctl/reshard_workflow.h"
#include "ctl/switch_traffic.h"
#include "key/key_range.h"

namespace shale::ctl {
namespace {

void Progress(const ReshardOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

absl::Status CheckShardsExist(const std::map<std::string, topodata::Shard>& shards,
                              absl::string_view keyspace, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (!shards.contains(n)) {
      return absl::NotFoundError(absl::StrCat("shard ", keyspace, "/", n,
                                              " does not exist (create it with CreateShard and "
                                              "start its tablets first)"));
    }
  }
  return absl::OkStatus();
}

bool ServesAnything(const topodata::Shard& s) { return s.served_types_size() > 0; }

bool ServesPrimary(const topodata::Shard& s) {
  for (const auto& st : s.served_types()) {
    if (st.tablet_type() == topodata::PRIMARY) return true;
  }
  return false;
}

// One progress line for every stream: "-40 <- -80 COPYING t 1200 rows (1/2 tables)".
std::string CopyProgress(const std::vector<std::pair<std::string, tablet::StreamState>>& streams) {
  std::vector<std::string> parts;
  for (const auto& [shard, s] : streams) {
    std::string part = absl::StrCat(shard, " <- ", s.source_shard(), " ",
                                    tablet::StreamPhase_Name(s.phase()), " ", s.rows_copied(),
                                    " rows (", s.tables_copied(), "/", s.tables_total(), " tables");
    if (!s.copying_table().empty()) absl::StrAppend(&part, ", copying ", s.copying_table());
    absl::StrAppend(&part, ")");
    if (!s.last_error().empty()) absl::StrAppend(&part, " last error: ", s.last_error());
    parts.push_back(std::move(part));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

absl::StatusOr<nlohmann::json> WaitForCopy(topo::Server& ts, absl::string_view keyspace,
                                           const std::vector<std::string>& targets,
                                           const ReshardOptions& o) {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + o.wait_timeout;
  // Polled often so the copy time printed is close to the real one;
  // progress is printed every progress_interval.
  constexpr absl::Duration kPoll = absl::Milliseconds(100);
  absl::Time next_progress = start + o.progress_interval;
  while (true) {
    std::vector<std::pair<std::string, tablet::StreamState>> streams;
    bool copying = false;
    for (const std::string& t : targets) {
      absl::StatusOr<tablet::StreamStatusResponse> r = ShardStreamStatus(ts, keyspace, t);
      if (!r.ok()) {
        Progress(o, absl::StrCat("status of ", keyspace, "/", t, ": ", r.status().message()));
        copying = true;
        continue;
      }
      for (const auto& s : r->streams()) {
        streams.emplace_back(t, s);
        if (s.phase() != tablet::RUNNING) copying = true;
      }
      if (r->streams_size() == 0) copying = true;  // not started yet
    }
    int64_t rows = 0;
    for (const auto& [shard, s] : streams) rows += s.rows_copied();
    if (!copying) {
      const double secs = absl::ToDoubleSeconds(absl::Now() - start);
      Progress(o, absl::StrCat("copy done: ", rows, " rows in ", absl::StrFormat("%.2f", secs),
                               " s (", absl::StrFormat("%.0f", secs > 0 ? rows / secs : 0.0),
                               " rows/s); the streams now follow the sources"));
      nlohmann::json out = nlohmann::json::array();
      for (const auto& [shard, s] : streams) out.push_back(StreamJson(shard, s));
      return out;
    }
    if (absl::Now() >= next_progress) {
      Progress(o, CopyProgress(streams));
      next_progress = absl::Now() + o.progress_interval;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the copy is still running after ", absl::FormatDuration(o.wait_timeout),
          "; it goes on: follow it with ReshardStatus ", keyspace));
    }
    absl::SleepFor(std::min(kPoll, deadline - absl::Now()));
  }
}

absl::StatusOr<nlohmann::json> Reshard(topo::Server& ts, absl::string_view keyspace,
                                       const std::vector<std::string>& sources,
                                       const std::vector<std::string>& targets,
                                       const ReshardOptions& options) {
  RETURN_IF_ERROR(CheckSameRange(sources, targets));
  for (const std::string& t : targets) {
    if (std::find(sources.begin(), sources.end(), t) != sources.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard ", t, " is both a source and a target"));
    }
  }
  ASSIGN_OR_RETURN(auto lock, ts.LockKeyspace(keyspace,
                                              absl::StrCat("Reshard ", absl::StrJoin(sources, ","),
                                                           " -> ", absl::StrJoin(targets, ",")),
                                              options.lock_timeout));
  absl::StatusOr<ReshardWorkflow> existing = FindReshardWorkflow(ts, keyspace);
  if (existing.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "keyspace ", keyspace, " already has a resharding workflow (",
        absl::StrJoin(existing->old_shards, ","), " -> ", absl::StrJoin(existing->new_shards, ","),
        "); finish it with Complete or roll it back first"));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  RETURN_IF_ERROR(CheckNoMoveTables(ts, keyspace));

  std::map<std::string, topodata::Shard> shards;
  ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListShards(keyspace));
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(topo::ShardInfo si, ts.GetShard(keyspace, n));
    shards[n] = std::move(si.record);
  }
  RETURN_IF_ERROR(CheckShardsExist(shards, keyspace, sources));
  RETURN_IF_ERROR(CheckShardsExist(shards, keyspace, targets));
  for (const std::string& s : sources) {
    if (!ServesPrimary(shards[s])) {
      return absl::FailedPreconditionError(absl::StrCat(
          "source shard ", keyspace, "/", s, " does not serve primary traffic"));
    }
  }
  for (const std::string& t : targets) {
    if (ServesAnything(shards[t])) {
      return absl::FailedPreconditionError(absl::StrCat(
          "target shard ", keyspace, "/", t,
          " already serves traffic; a target must be a new shard that overlaps the sources "
          "(CreateShard creates it serving nothing)"));
    }
    RETURN_IF_ERROR(ShardPrimaryClient(ts, keyspace, t).status());
  }

  // Each target follows every source that overlaps it.
  for (const std::string& t : targets) {
    const key::KeyRange tr = key::KeyRange::FromProto(shards[t].key_range());
    std::vector<std::string> from;
    ASSIGN_OR_RETURN(topodata::Shard updated,
                     ts.UpdateShardFields(keyspace, t, [&](topodata::Shard& rec) -> absl::Status {
                       rec.clear_source_shards();
                       from.clear();
                       uint32_t uid = 0;
                       for (const std::string& s : sources) {
                         const key::KeyRange sr = key::KeyRange::FromProto(shards[s].key_range());
                         if (!sr.Overlaps(tr)) continue;
                         auto* src = rec.add_source_shards();
                         src->set_uid(++uid);
                         src->set_keyspace(std::string(keyspace));
                         src->set_shard(s);
                         *src->mutable_key_range() = shards[s].key_range();
                         from.push_back(s);
                       }
                       return absl::OkStatus();
                     }));
    Progress(options, absl::StrCat(keyspace, "/", t, " follows ", absl::StrJoin(from, ",")));
  }
  RETURN_IF_ERROR(StartStreams(ts, keyspace, targets));
  lock.reset();
  if (!options.wait) {
    nlohmann::json out;
    out["keyspace"] = std::string(keyspace);
    out["sources"] = sources;
    out["targets"] = targets;
    out["message"] = absl::StrCat("started; follow the copy with ReshardStatus ", keyspace);
    return out;
  }
  return WaitForCopy(ts, keyspace, targets, options);
}

absl::StatusOr<nlohmann::json> ReshardStatus(topo::Server& ts, absl::string_view keyspace) {
  ASSIGN_OR_RETURN(KeyspaceWorkflow found, FindKeyspaceWorkflow(ts, keyspace));
  if (auto* move = std::get_if<MoveTablesWorkflow>(&found)) return MoveTablesStatus(ts, *move);
  ReshardWorkflow wf = std::get<ReshardWorkflow>(std::move(found));
  nlohmann::json out;
  out["keyspace"] = wf.keyspace;
  out["old_shards"] = wf.old_shards;
  out["new_shards"] = wf.new_shards;
  out["primary_switched"] = wf.reversed;
  if (!wf.dormant.empty()) {
    out["interrupted_switch"] = absl::StrCat(
        "dormant streams into ", absl::StrJoin(wf.dormant, ","),
        " were left by an interrupted primary switch; the next SwitchTraffic or ReverseTraffic "
        "removes them");
  }
  nlohmann::json serving = nlohmann::json::object();
  for (const auto& side : {wf.old_shards, wf.new_shards}) {
    for (const std::string& s : side) {
      std::vector<std::string> types;
      for (const auto& st : wf.shards[s].served_types()) {
        types.push_back(absl::AsciiStrToLower(topodata::TabletType_Name(st.tablet_type())));
      }
      serving[s] = types;
    }
  }
  out["serving"] = serving;
  nlohmann::json streams = nlohmann::json::array();
  for (const std::string& f : wf.followers()) {
    absl::StatusOr<tablet::StreamStatusResponse> r = ShardStreamStatus(ts, keyspace, f);
    if (!r.ok()) {
      nlohmann::json j;
      j["shard"] = f;
      j["error"] = std::string(r.status().message());
      streams.push_back(j);
      continue;
    }
    for (const auto& s : r->streams()) streams.push_back(StreamJson(f, s));
  }
  out["streams"] = streams;
  return out;
}

}  // namespace shale::ctl
