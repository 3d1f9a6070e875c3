#include "gate/gateway_test_env.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ctl/rebuild.h"
#include "key/key_range.h"
#include "key/vindex.h"
#include "tablet/client/tablet_client.h"

namespace shale::gate {

bool WaitUntil(const std::function<bool()>& cond, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!cond()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

int ShardOfId(int64_t id) {
  static const key::KeyRange kLow = *key::KeyRange::Parse("-80");
  return kLow.Contains(key::HashInt64(id)) ? 0 : 1;
}

std::vector<int64_t> IdsOnShard(int s, int n, int64_t from) {
  std::vector<int64_t> ids;
  for (int64_t id = from; static_cast<int>(ids.size()) < n; ++id) {
    if (ShardOfId(id) == s) ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<tablet::QueryResult> RunSql(GateSession& session, absl::string_view sql) {
  ASSIGN_OR_RETURN(pgwire::Result r, session.ExecuteText(sql, {}));
  return std::move(r.data);
}

absl::StatusOr<int64_t> RunSqlInt(GateSession& session, absl::string_view sql) {
  ASSIGN_OR_RETURN(tablet::QueryResult r, RunSql(session, sql));
  if (r.rows_size() != 1 || r.rows(0).values_size() != 1) {
    return absl::InternalError(absl::StrCat("not one value: ", r.ShortDebugString()));
  }
  return r.rows(0).values(0).int64();
}

GateTestCluster::GateTestCluster() : ts_(memory_.NewConn()) {
  if (!ts_.AddCellInfo("zone1", topodata::CellInfo()).ok()) abort();
}

GateTestCluster::~GateTestCluster() {
  if (gateway_ != nullptr) gateway_->Stop();
  gateway_.reset();
  absl::MutexLock l(&mu_);
  tablets_.clear();
}

absl::Status GateTestCluster::StartTablets(int replicas) {
  topodata::Keyspace ks;
  ks.set_sharding_column_name("id");
  ks.set_sharding_column_type(topodata::UINT64);
  RETURN_IF_ERROR(ts_.CreateKeyspace("app", ks));
  for (const char* shard : kShards) RETURN_IF_ERROR(ts_.CreateShard("app", shard));
  for (int s = 0; s < 2; ++s) {
    for (int n = 0; n <= replicas; ++n) {
      RETURN_IF_ERROR(
          StartTablet(TabletUid(s, n), kShards[s], n == 0 ? topodata::PRIMARY : topodata::REPLICA)
              .status());
    }
  }
  return ctl::RebuildKeyspaceGraph(ts_, "app", {}, false);
}

absl::StatusOr<tablet::TabletServer*> GateTestCluster::StartTablet(uint32_t uid,
                                                                   const std::string& shard,
                                                                   topodata::TabletType type,
                                                                   const std::string& keyspace) {
  tablet::TabletServerOptions o;
  o.alias = {"zone1", uid};
  o.keyspace = keyspace;
  o.shard = shard;
  o.init_type = type;
  o.hostname = "127.0.0.1";
  o.enable_http = false;
  o.data_dir = absl::StrCat(dir_.path(), "/", uid);
  o.health_interval = kHealthInterval;
  o.heartbeat_interval = absl::Milliseconds(200);
  o.publisher.initial_backoff = absl::Milliseconds(1);
  o.publisher.max_backoff = absl::Milliseconds(20);
  ASSIGN_OR_RETURN(std::unique_ptr<tablet::TabletServer> t, tablet::TabletServer::Start(&ts_, o));
  absl::MutexLock l(&mu_);
  tablet::TabletServer* raw = t.get();
  tablets_[uid] = std::move(t);
  return raw;
}

GatewayOptions GateTestCluster::DefaultOptions() {
  GatewayOptions o;
  o.cell = "zone1";
  o.pg_port = 0;
  o.grpc_port = -1;
  o.http_port = -1;
  // Every tablet here sends a health message each kHealthInterval.
  o.health_timeout = absl::Seconds(3);
  return o;
}

absl::Status GateTestCluster::StartGateway(GatewayOptions options) {
  ASSIGN_OR_RETURN(gateway_, Gateway::Start(&ts_, std::move(options)));
  std::vector<uint32_t> uids;
  {
    absl::MutexLock l(&mu_);
    for (const auto& entry : tablets_) uids.push_back(entry.first);
  }
  const bool all = WaitUntil([&] {
    for (uint32_t uid : uids) {
      if (!Serving(uid)) return false;
    }
    return true;
  });
  if (!all) {
    return absl::DeadlineExceededError(
        absl::StrCat("the gateway serves ", ServingTablets(), " of ", uids.size(), " tablets"));
  }
  return absl::OkStatus();
}

bool GateTestCluster::Serving(uint32_t uid) {
  for (const discovery::TabletHealthPtr& h : gateway_->health().GetAll()) {
    if (h->alias == topo::TabletAlias{"zone1", uid}) return h->IsServing();
  }
  return false;
}

int GateTestCluster::ServingTablets() {
  int n = 0;
  for (const discovery::TabletHealthPtr& h : gateway_->health().GetAll()) n += h->IsServing();
  return n;
}

std::unique_ptr<GateSession> GateTestCluster::Session(absl::string_view database) {
  absl::StatusOr<SessionTarget> target = ParseTarget(database);
  if (!target.ok()) abort();
  return std::make_unique<GateSession>(&gateway_->context(), *std::move(target), "tester");
}

absl::Status GateTestCluster::WaitReplicasCaughtUp() {
  absl::MutexLock l(&mu_);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (const char* shard : kShards) {
    std::vector<tablet::TabletServer*> members;
    tablet::TabletServer* primary = nullptr;
    for (auto& entry : tablets_) {
      const topodata::Tablet record = entry.second->state().Snapshot().record;
      if (record.shard() != shard) continue;
      if (record.type() == topodata::PRIMARY) {
        primary = entry.second.get();
      } else {
        members.push_back(entry.second.get());
      }
    }
    if (primary == nullptr) return absl::NotFoundError(absl::StrCat("no primary of ", shard));
    const int64_t want = primary->replication().position().Get().seq();
    for (tablet::TabletServer* r : members) {
      if (!r->replication().position().WaitFor(want, deadline)) {
        return absl::DeadlineExceededError(absl::StrCat("a replica of ", shard, " is at ",
                                                        r->replication().position().Get().seq(),
                                                        ", its primary at ", want));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status GateTestCluster::ExecOnPrimaries(const std::string& sql) {
  const char* shards[] = {"-80", "80-"};
  for (int s = 0; s < 2; ++s) {
    auto client = tablet::TabletClient::Connect(
        absl::StrCat("127.0.0.1:", tablet(TabletUid(s, 0)).grpc_port()));
    tablet::ExecuteRequest request;
    request.mutable_target()->set_keyspace("app");
    request.mutable_target()->set_shard(shards[s]);
    request.mutable_target()->set_tablet_type(topodata::PRIMARY);
    request.set_sql(sql);
    RETURN_IF_ERROR(
        client->Call(client->query(), &tablet::Query::Stub::Execute, request).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> GateTestCluster::TabletInt(uint32_t uid, const std::string& sql) {
  ASSIGN_OR_RETURN(tablet::engine::ResultSet r, tablet(uid).engine().ExecuteInternal(sql));
  if (r.rows.size() != 1 || r.rows[0].size() != 1) {
    return absl::InternalError(absl::StrCat("not one value: ", sql));
  }
  return r.rows[0][0].int64();
}

tablet::TabletServer& GateTestCluster::tablet(uint32_t uid) {
  absl::MutexLock l(&mu_);
  auto it = tablets_.find(uid);
  if (it == tablets_.end()) abort();
  return *it->second;
}

}  // namespace shale::gate
