#include "ctl/shard_tablets.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ctl/record_json.h"

namespace shale::ctl {

using tablet::TabletClient;

absl::StatusOr<std::string> TabletAddress(const topodata::Tablet& record) {
  auto it = record.port_map().find("grpc");
  if (it == record.port_map().end() || it->second <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("tablet ", topo::TabletAlias::FromProto(record.alias()).ToString(),
                     " has no gRPC port in its record"));
  }
  const std::string host = record.hostname().empty() ? "localhost" : record.hostname();
  return absl::StrCat(host, ":", it->second);
}

absl::StatusOr<std::unique_ptr<TabletClient>> DialTablet(const topodata::Tablet& record) {
  ASSIGN_OR_RETURN(std::string address, TabletAddress(record));
  return TabletClient::Connect(address);
}

absl::StatusOr<std::vector<ShardTablet>> FindShardTablets(topo::Server& ts,
                                                          absl::string_view keyspace,
                                                          absl::string_view shard,
                                                          const TabletDialer& dial) {
  RETURN_IF_ERROR(ts.GetShard(keyspace, shard).status());
  ASSIGN_OR_RETURN(std::vector<std::string> cells, ts.ListCells());
  std::vector<topo::TabletAlias> aliases;
  for (const std::string& cell : cells) {
    absl::StatusOr<topodata::ShardReplication> repl = ts.GetShardReplication(cell, keyspace, shard);
    if (absl::IsNotFound(repl.status())) continue;  // no tablet of the shard in this cell
    RETURN_IF_ERROR(repl.status());
    for (const auto& node : repl->nodes()) {
      aliases.push_back(topo::TabletAlias::FromProto(node.tablet_alias()));
    }
  }
  std::sort(aliases.begin(), aliases.end());
  aliases.erase(std::unique(aliases.begin(), aliases.end()), aliases.end());

  std::vector<ShardTablet> out;
  for (const topo::TabletAlias& alias : aliases) {
    absl::StatusOr<topo::TabletInfo> info = ts.GetTablet(alias);
    if (absl::IsNotFound(info.status())) continue;  // removed; ShardReplication lags
    RETURN_IF_ERROR(info.status());
    if (info->record.keyspace() != keyspace || info->record.shard() != shard) continue;
    ShardTablet t;
    t.alias = alias;
    t.record = std::move(info->record);
    t.type = t.record.type();
    absl::StatusOr<std::unique_ptr<TabletClient>> client =
        dial ? dial(t.record) : DialTablet(t.record);
    if (client.ok()) {
      t.client = *std::move(client);
    } else {
      t.reach = client.status();
    }
    out.push_back(std::move(t));
  }
  return out;
}

void ForEachTablet(const std::vector<ShardTablet*>& tablets,
                   const std::function<void(ShardTablet&)>& fn) {
  if (tablets.size() == 1) {
    fn(*tablets[0]);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(tablets.size());
  for (ShardTablet* t : tablets) threads.emplace_back([t, &fn] { fn(*t); });
  for (std::thread& th : threads) th.join();
}

std::vector<ShardTablet*> AllOf(std::vector<ShardTablet>& tablets) {
  std::vector<ShardTablet*> out;
  for (ShardTablet& t : tablets) out.push_back(&t);
  return out;
}

void ProbeTablets(const std::vector<ShardTablet*>& tablets, absl::Duration timeout) {
  ForEachTablet(tablets, [timeout](ShardTablet& t) {
    if (t.client == nullptr) return;
    TabletClient& c = *t.client;
    absl::StatusOr<tablet::GetStateResponse> state =
        c.Call(c.manager(), &tablet::TabletManager::Stub::GetState, tablet::GetStateRequest(),
               timeout);
    if (!state.ok()) {
      t.reach = state.status();
      return;
    }
    t.type = state->state().target().tablet_type();
    t.serving = state->state().serving();
    absl::StatusOr<tablet::ReplicationStatusResponse> repl =
        c.Call(c.replication(), &tablet::Replication::Stub::ReplicationStatus,
               tablet::ReplicationStatusRequest(), timeout);
    if (!repl.ok()) {
      t.reach = repl.status();
      return;
    }
    t.repl = repl->status();
    t.reach = absl::OkStatus();
  });
}

absl::Status AtTablet(const absl::Status& s, const ShardTablet& t) {
  if (s.ok()) return s;
  const std::string address = t.client != nullptr ? t.client->address() : "no address";
  return absl::Status(s.code(),
                      absl::StrCat("tablet ", t.name(), " (", address, "): ", s.message()));
}

std::string Describe(const ShardTablet& t) {
  if (!t.reachable()) return absl::StrCat(t.name(), " unreachable (", t.reach.message(), ")");
  return absl::StrCat(t.name(), " ", topodata::TabletType_Name(t.type), " seq ", t.seq(),
                      " term ", t.repl.term());
}

nlohmann::json ReplicationStatusToJson(const tablet::ReplicationStatus& status) {
  return RecordToJson(status);
}

}  // namespace shale::ctl
