#include "discovery/discovery_test_env.h"

#include "grpcpp/server_builder.h"

namespace shale::discovery {

TestCluster::TestCluster() : ts(memory.NewConn()) {
  const std::pair<const char*, const char*> cells[] = {
      {"zone1", "r1"}, {"zone2", "r1"}, {"zone3", "r2"}};
  for (const auto& cell : cells) {
    topodata::CellInfo info;
    info.set_region(cell.second);
    absl::Status s = ts.AddCellInfo(cell.first, info);
    if (!s.ok()) ADD_FAILURE() << s;
  }
}

std::unique_ptr<tablet::TabletServer> TestCluster::StartTablet(uint32_t uid,
                                                               topodata::TabletType type,
                                                               const std::string& cell,
                                                               const std::string& keyspace,
                                                               const std::string& shard) {
  tablet::TabletServerOptions o;
  o.alias = {cell, uid};
  o.keyspace = keyspace;
  o.shard = shard;
  o.init_type = type;
  o.hostname = "127.0.0.1";
  o.enable_http = false;
  o.data_dir = dir.path() + "/" + cell + "-" + std::to_string(uid);
  o.health_interval = kHealthInterval;
  o.publisher.initial_backoff = absl::Milliseconds(1);
  o.publisher.max_backoff = absl::Milliseconds(20);
  auto s = tablet::TabletServer::Start(&ts, o);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

topodata::Tablet TestCluster::Record(const std::string& cell, uint32_t uid) {
  auto info = ts.GetTablet({cell, uid});
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? info->record : topodata::Tablet();
}

topodata::Tablet MakeRecord(const std::string& cell, uint32_t uid, int port,
                            topodata::TabletType type, const std::string& keyspace,
                            const std::string& shard) {
  topodata::Tablet t;
  *t.mutable_alias() = topo::TabletAlias{cell, uid}.ToProto();
  t.set_hostname("127.0.0.1");
  (*t.mutable_port_map())["grpc"] = port;
  t.set_keyspace(keyspace);
  t.set_shard(shard);
  t.set_type(type);
  return t;
}

FakeTablet::FakeTablet() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  EXPECT_NE(server_, nullptr);
  EXPECT_NE(port_, 0);
}

FakeTablet::~FakeTablet() { Stop(); }

void FakeTablet::Set(const tablet::StreamHealthResponse& response) {
  absl::MutexLock l(&service_.mu);
  service_.response = response;
  ++service_.generation;
}

tablet::StreamHealthResponse FakeTablet::Healthy(const std::string& cell, uint32_t uid,
                                                 topodata::TabletType type, int64_t term,
                                                 double lag_seconds) {
  tablet::StreamHealthResponse h;
  h.mutable_target()->set_keyspace("app");
  h.mutable_target()->set_shard("0");
  h.mutable_target()->set_tablet_type(type);
  *h.mutable_tablet_alias() = topo::TabletAlias{cell, uid}.ToProto();
  h.set_serving(true);
  h.set_primary_term(term);
  if (term > 0) h.mutable_primary_term_start_time()->set_seconds(1000 + term);
  h.mutable_realtime_stats()->set_replication_lag_seconds(lag_seconds);
  return h;
}

void FakeTablet::SetSilent(bool silent) {
  absl::MutexLock l(&service_.mu);
  service_.silent = silent;
  ++service_.generation;
}

void FakeTablet::Stop() {
  {
    absl::MutexLock l(&service_.mu);
    if (service_.stopping) return;
    service_.stopping = true;
  }
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
}

grpc::Status FakeTablet::Service::StreamHealth(
    grpc::ServerContext* context, const tablet::StreamHealthRequest*,
    grpc::ServerWriter<tablet::StreamHealthResponse>* writer) {
  ++started;
  int64_t seen = -1;
  absl::Time next_send = absl::InfinitePast();
  for (;;) {
    tablet::StreamHealthResponse msg;
    {
      absl::MutexLock l(&mu);
      auto changed = [this, &seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return stopping || generation != seen;
      };
      mu.AwaitWithDeadline(absl::Condition(&changed),
                           std::min(next_send, absl::Now() + absl::Milliseconds(50)));
      if (stopping) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake tablet stopped");
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      const bool due = generation != seen || absl::Now() >= next_send;
      if (!due || silent || generation == 0) {
        seen = generation;
        continue;
      }
      seen = generation;
      msg = response;
    }
    if (!writer->Write(msg)) return grpc::Status::CANCELLED;
    next_send = absl::Now() + kHealthInterval;
  }
}

UpdateCounter::UpdateCounter(HealthCheck* hc) : hc_(hc) {
  id_ = hc_->Subscribe([this](const TabletHealthPtr&) { ++count_; });
}

UpdateCounter::~UpdateCounter() { hc_->Unsubscribe(id_); }

bool UpdateCounter::WaitForMore(int64_t n, absl::Duration timeout) const {
  const int64_t target = count() + n;
  return WaitUntil([this, target] { return count() >= target; }, timeout);
}

HealthCheckOptions FastHealthCheckOptions(std::atomic<int>* connections) {
  HealthCheckOptions o;
  o.retry_initial = absl::Milliseconds(20);
  o.retry_max = absl::Milliseconds(200);
  o.health_timeout = absl::Seconds(2);
  o.connect = [connections](const std::string& address) {
    ++*connections;
    return std::shared_ptr<tablet::TabletClient>(tablet::TabletClient::Connect(address));
  };
  return o;
}

}  // namespace shale::discovery
