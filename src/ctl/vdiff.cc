#include "ctl/vdiff.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "tablet/client/tablet_client.h"

namespace shale::ctl {
namespace {

// Beyond the catch-up timeout, the time the shard's comparisons may take.
constexpr absl::Duration kCompareTime = absl::Hours(1);

std::string PositionString(const tablet::ChangePosition& p) {
  return absl::StrCat(p.seq(), ".", p.term(), ".", p.row());
}

std::string Verdict(const tablet::TableDiff& t) {
  if (t.match()) return "match";
  return absl::StrCat(t.missing_on_target(), " missing, ", t.extra_on_target(), " extra, ",
                      t.different(), " different");
}

}  // namespace

bool ShardVDiff::match() const {
  return std::all_of(response.tables().begin(), response.tables().end(),
                     [](const tablet::TableDiff& t) { return t.match(); });
}

bool KeyspaceVDiff::match() const {
  return std::all_of(shards.begin(), shards.end(), [](const ShardVDiff& s) { return s.match(); });
}

int KeyspaceVDiff::differing_tables() const {
  int n = 0;
  for (const ShardVDiff& s : shards) {
    for (const tablet::TableDiff& t : s.response.tables()) n += t.match() ? 0 : 1;
  }
  return n;
}

nlohmann::json KeyspaceVDiff::ToJson() const {
  nlohmann::json shards_json = nlohmann::json::array();
  for (const ShardVDiff& s : shards) {
    nlohmann::json streams = nlohmann::json::array();
    for (const tablet::StreamState& st : s.response.streams()) {
      streams.push_back({{"uid", st.uid()},
                         {"source", absl::StrCat(st.source_keyspace(), "/", st.source_shard())},
                         {"position", PositionString(st.position())}});
    }
    nlohmann::json tables = nlohmann::json::array();
    for (const tablet::TableDiff& t : s.response.tables()) {
      tables.push_back({{"table", t.table()},
                        {"source_rows", t.source_rows()},
                        {"target_rows", t.target_rows()},
                        {"match", t.match()},
                        {"missing_on_target", t.missing_on_target()},
                        {"extra_on_target", t.extra_on_target()},
                        {"different", t.different()},
                        {"examples", std::vector<std::string>(t.examples().begin(),
                                                              t.examples().end())}});
    }
    shards_json.push_back({{"shard", s.shard},
                           {"primary", s.primary.ToString()},
                           {"match", s.match()},
                           {"streams", streams},
                           {"tables", tables}});
  }
  return {{"keyspace", keyspace}, {"match", match()}, {"shards", shards_json}};
}

std::string KeyspaceVDiff::ToText() const {
  std::string out;
  int tables = 0;
  for (const ShardVDiff& s : shards) {
    absl::StrAppend(&out, "shard ", keyspace, "/", s.shard, " (primary ", s.primary.ToString(),
                    ")\n");
    for (const tablet::StreamState& st : s.response.streams()) {
      absl::StrAppend(&out, "  stream ", st.uid(), " from ", st.source_keyspace(), "/",
                      st.source_shard(), " compared at ", PositionString(st.position()), "\n");
    }
    size_t width = 5;
    for (const tablet::TableDiff& t : s.response.tables()) width = std::max(width, t.table().size());
    absl::StrAppend(&out, absl::StrFormat("  %-*s %12s %12s  %s\n", static_cast<int>(width),
                                          "table", "source rows", "target rows", "result"));
    for (const tablet::TableDiff& t : s.response.tables()) {
      ++tables;
      absl::StrAppend(&out, absl::StrFormat("  %-*s %12d %12d  %s\n", static_cast<int>(width),
                                            t.table(), t.source_rows(), t.target_rows(),
                                            Verdict(t)));
      for (const std::string& e : t.examples()) absl::StrAppend(&out, "      ", e, "\n");
      const int64_t listed = t.examples_size();
      const int64_t total = t.missing_on_target() + t.extra_on_target() + t.different();
      if (total > listed) absl::StrAppend(&out, "      ... and ", total - listed, " more\n");
    }
  }
  if (match()) {
    absl::StrAppend(&out, "VDiff ", keyspace, ": match (", tables, " table comparisons in ",
                    shards.size(), shards.size() == 1 ? " shard)\n" : " shards)\n");
  } else {
    absl::StrAppend(&out, "VDiff ", keyspace, ": DIFFERENCES in ", differing_tables(), " of ",
                    tables, " table comparisons\n");
  }
  return out;
}

absl::StatusOr<KeyspaceVDiff> RunVDiff(topo::Server& ts, absl::string_view keyspace,
                                       const VDiffOptions& options) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ts.ListShards(keyspace));
  KeyspaceVDiff result;
  result.keyspace = std::string(keyspace);
  std::vector<std::pair<std::string, topodata::Shard>> targets;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(topo::ShardInfo info, ts.GetShard(keyspace, name));
    if (info.record.source_shards_size() > 0) targets.emplace_back(name, info.record);
  }
  if (targets.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("keyspace ", keyspace,
                     " has no resharding streams: no shard lists source shards (start a "
                     "workflow with Reshard first)"));
  }
  for (const auto& [name, record] : targets) {
    ShardVDiff shard;
    shard.shard = name;
    shard.sources.assign(record.source_shards().begin(), record.source_shards().end());
    if (!record.has_primary_alias() || record.primary_alias().uid() == 0) {
      return absl::UnavailableError(absl::StrCat("shard ", keyspace, "/", name, " has no primary"));
    }
    shard.primary = topo::TabletAlias::FromProto(record.primary_alias());
    ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletClient> client,
                     tablet::TabletClient::ForTablet(ts, shard.primary));
    tablet::VDiffRequest request;
    for (const std::string& t : options.tables) request.add_tables(t);
    request.set_max_reported_rows(options.max_reported_rows);
    request.set_timeout_ms(absl::ToInt64Milliseconds(options.timeout));
    absl::StatusOr<tablet::VDiffResponse> response =
        client->Call(client->reshard(), &tablet::Reshard::Stub::VDiff, request,
                     options.timeout + kCompareTime);
    if (!response.ok()) {
      return absl::Status(response.status().code(),
                          absl::StrCat("VDiff of ", keyspace, "/", name, " on ",
                                       shard.primary.ToString(), ": ",
                                       response.status().message()));
    }
    shard.response = *std::move(response);
    result.shards.push_back(std::move(shard));
  }
  return result;
}

}  // namespace shale::ctl
