#include "ctl/fake_tablet.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "tablet/client/grpc_status.h"

namespace shale::ctl::fakes {
namespace {

grpc::Status Fail(absl::StatusCode code, const std::string& msg) {
  return tablet::ToGrpcStatus(absl::Status(code, msg));
}

}  // namespace

// ---- TabletManager

class FakeTablet::ManagerService : public tablet::TabletManager::Service {
 public:
  explicit ManagerService(FakeTablet* t) : t_(t) {}

  grpc::Status Ping(grpc::ServerContext*, const tablet::PingRequest*,
                    tablet::PingResponse* resp) override {
    absl::MutexLock l(&t_->mu_);
    t_->Record("Ping");
    if (t_->Fails("Ping")) return Fail(absl::StatusCode::kUnavailable, "injected");
    *resp->mutable_alias() = t_->alias_.ToProto();
    return grpc::Status::OK;
  }

  grpc::Status GetState(grpc::ServerContext*, const tablet::GetStateRequest*,
                        tablet::GetStateResponse* resp) override {
    absl::MutexLock l(&t_->mu_);
    t_->Record("GetState");
    if (t_->Fails("GetState")) return Fail(absl::StatusCode::kUnavailable, "injected");
    tablet::TabletState* s = resp->mutable_state();
    *s->mutable_alias() = t_->alias_.ToProto();
    s->mutable_target()->set_keyspace(t_->keyspace_);
    s->mutable_target()->set_shard(t_->shard_);
    s->mutable_target()->set_tablet_type(t_->state_.type);
    s->set_serving(true);
    s->set_read_only(t_->state_.read_only);
    s->set_primary_term(t_->state_.term);
    return grpc::Status::OK;
  }

  grpc::Status PromoteReplica(grpc::ServerContext*, const tablet::PromoteReplicaRequest* req,
                              tablet::PromoteReplicaResponse* resp) override {
    {
      absl::MutexLock l(&t_->mu_);
      t_->Record("PromoteReplica");
      if (t_->Fails("PromoteReplica")) return Fail(absl::StatusCode::kUnavailable, "injected");
    }
    absl::StatusOr<topo::ShardInfo> shard = t_->cluster_->ts().GetShard(t_->keyspace_, t_->shard_);
    if (!shard.ok()) return tablet::ToGrpcStatus(shard.status());
    if (topo::TabletAlias::FromProto(shard->record.primary_alias()) != t_->alias_ ||
        shard->record.primary_term() != req->term()) {
      return Fail(absl::StatusCode::kFailedPrecondition,
                  "the Shard record does not name this tablet with that term");
    }
    {
      absl::MutexLock l(&t_->mu_);
      if (t_->state_.type == topodata::PRIMARY) {
        return Fail(absl::StatusCode::kFailedPrecondition, "already primary");
      }
      if (req->term() <= t_->state_.term) {
        return Fail(absl::StatusCode::kFailedPrecondition, "term is not newer");
      }
      t_->state_.type = topodata::PRIMARY;
      t_->state_.term = req->term();
      t_->state_.seq += 1;  // CHANGE_CONFIG
      t_->state_.read_only = false;
      t_->state_.replicating = false;
      resp->mutable_position()->set_seq(t_->state_.seq);
      resp->mutable_position()->set_term(t_->state_.term);
    }
    t_->Publish();
    return grpc::Status::OK;
  }

  grpc::Status MigratePrimary(grpc::ServerContext*, const tablet::MigratePrimaryRequest* req,
                              tablet::MigratePrimaryResponse* resp) override {
    int64_t seq = 0;
    {
      absl::MutexLock l(&t_->mu_);
      t_->Record("MigratePrimary");
      if (t_->Fails("MigratePrimary")) return Fail(absl::StatusCode::kUnavailable, "injected");
      if (t_->state_.type != topodata::PRIMARY) {
        return Fail(absl::StatusCode::kFailedPrecondition, "not primary");
      }
      if (req->new_term() != t_->state_.term + 1) {
        return Fail(absl::StatusCode::kFailedPrecondition, "new_term must be term + 1");
      }
      seq = t_->state_.seq + 1;  // CHANGE_CONFIG
    }
    const topo::TabletAlias to = topo::TabletAlias::FromProto(req->candidate());
    FakeTablet* c = t_->cluster_->Find(to.ToString());
    if (c == nullptr || c->killed()) {
      return Fail(absl::StatusCode::kUnavailable, "candidate unreachable");
    }
    // The candidate writes the Shard record, then takes writes.
    auto updated = t_->cluster_->ts().UpdateShardFields(
        t_->keyspace_, t_->shard_, [&](topodata::Shard& shard) -> absl::Status {
          *shard.mutable_primary_alias() = to.ToProto();
          shard.set_primary_term(req->new_term());
          return absl::OkStatus();
        });
    if (!updated.ok()) return tablet::ToGrpcStatus(updated.status());
    {
      absl::MutexLock l(&c->mu_);
      c->state_ = FakeState{topodata::PRIMARY, seq, req->new_term(), false, "", false,
                            std::move(c->state_.calls)};
    }
    c->Publish();
    {
      absl::MutexLock l(&t_->mu_);
      t_->state_.type = topodata::REPLICA;
      t_->state_.seq = seq;
      t_->state_.term = req->new_term();
      t_->state_.read_only = true;
      t_->state_.replicating = true;
      t_->state_.source = "";
    }
    t_->Publish();
    resp->mutable_change_config()->set_seq(seq);
    resp->mutable_change_config()->set_term(req->new_term());
    resp->set_stall_us(1234);
    return grpc::Status::OK;
  }

  grpc::Status DemotePrimary(grpc::ServerContext*, const tablet::DemotePrimaryRequest*,
                             tablet::DemotePrimaryResponse* resp) override {
    {
      absl::MutexLock l(&t_->mu_);
      t_->Record("DemotePrimary");
      if (t_->Fails("DemotePrimary")) return Fail(absl::StatusCode::kUnavailable, "injected");
      t_->state_.type = topodata::REPLICA;
      t_->state_.read_only = true;
      t_->state_.replicating = false;
      resp->mutable_position()->set_seq(t_->state_.seq);
      resp->mutable_position()->set_term(t_->state_.term);
    }
    t_->Publish();
    return grpc::Status::OK;
  }

 private:
  FakeTablet* const t_;
};

// ---- Replication

class FakeTablet::ReplicationService : public tablet::Replication::Service {
 public:
  explicit ReplicationService(FakeTablet* t) : t_(t) {}

  grpc::Status ReplicationStatus(grpc::ServerContext*, const tablet::ReplicationStatusRequest*,
                                 tablet::ReplicationStatusResponse* resp) override {
    absl::MutexLock l(&t_->mu_);
    t_->Record("ReplicationStatus");
    if (t_->Fails("ReplicationStatus")) return Fail(absl::StatusCode::kUnavailable, "injected");
    *resp->mutable_status() = t_->StatusLocked();
    return grpc::Status::OK;
  }

  grpc::Status PrimaryPosition(grpc::ServerContext*, const tablet::PrimaryPositionRequest*,
                               tablet::PrimaryPositionResponse* resp) override {
    absl::MutexLock l(&t_->mu_);
    t_->Record("PrimaryPosition");
    *resp->mutable_position() = t_->StatusLocked().position();
    return grpc::Status::OK;
  }

  grpc::Status WaitForPosition(grpc::ServerContext*, const tablet::WaitForPositionRequest* req,
                               tablet::WaitForPositionResponse* resp) override {
    absl::MutexLock l(&t_->mu_);
    t_->Record("WaitForPosition");
    if (t_->state_.seq < req->seq()) {
      return Fail(absl::StatusCode::kDeadlineExceeded,
                  absl::StrCat("at seq ", t_->state_.seq, ", waiting for ", req->seq()));
    }
    *resp->mutable_position() = t_->StatusLocked().position();
    return grpc::Status::OK;
  }

  grpc::Status StartReplication(grpc::ServerContext*, const tablet::StartReplicationRequest*,
                                tablet::StartReplicationResponse* resp) override {
    absl::MutexLock l(&t_->mu_);
    t_->Record("StartReplication");
    t_->state_.replicating = true;
    *resp->mutable_status() = t_->StatusLocked();
    return grpc::Status::OK;
  }

  grpc::Status StopReplication(grpc::ServerContext*, const tablet::StopReplicationRequest*,
                               tablet::StopReplicationResponse* resp) override {
    absl::MutexLock l(&t_->mu_);
    t_->Record("StopReplication");
    if (t_->Fails("StopReplication")) return Fail(absl::StatusCode::kUnavailable, "injected");
    t_->state_.replicating = false;
    *resp->mutable_status() = t_->StatusLocked();
    return grpc::Status::OK;
  }

  grpc::Status SetReplicationSource(grpc::ServerContext*,
                                    const tablet::SetReplicationSourceRequest* req,
                                    tablet::SetReplicationSourceResponse* resp) override {
    std::string source;
    {
      absl::MutexLock l(&t_->mu_);
      t_->Record("SetReplicationSource");
      if (t_->Fails("SetReplicationSource")) {
        return Fail(absl::StatusCode::kUnavailable, "injected");
      }
      if (req->term() < t_->state_.term) {
        return Fail(absl::StatusCode::kFailedPrecondition, "knows a newer term");
      }
      source = req->source().cell().empty()
                   ? ""
                   : topo::TabletAlias::FromProto(req->source()).ToString();
    }
    std::string from = source;
    if (from.empty()) {
      auto shard = t_->cluster_->ts().GetShard(t_->keyspace_, t_->shard_);
      if (shard.ok() && !shard->record.primary_alias().cell().empty()) {
        from = topo::TabletAlias::FromProto(shard->record.primary_alias()).ToString();
      }
    }
    int64_t from_seq = -1;
    FakeTablet* f = from.empty() ? nullptr : t_->cluster_->Find(from);
    if (f != nullptr && f != t_ && !f->killed()) from_seq = f->state().seq;
    absl::MutexLock l(&t_->mu_);
    t_->state_.term = std::max(t_->state_.term, req->term());
    t_->state_.source = source;
    t_->state_.type = t_->state_.type == topodata::PRIMARY ? topodata::REPLICA : t_->state_.type;
    t_->state_.read_only = true;
    t_->state_.replicating = req->start();
    if (req->start()) t_->state_.seq = std::max(t_->state_.seq, from_seq);
    *resp->mutable_status() = t_->StatusLocked();
    return grpc::Status::OK;
  }

 private:
  FakeTablet* const t_;
};

// ---- Health

class FakeTablet::HealthService : public tablet::Health::Service {
 public:
  explicit HealthService(FakeTablet* t) : t_(t) {}

  grpc::Status StreamHealth(grpc::ServerContext* context, const tablet::StreamHealthRequest*,
                            grpc::ServerWriter<tablet::StreamHealthResponse>* writer) override {
    for (;;) {
      tablet::StreamHealthResponse h;
      {
        absl::MutexLock l(&t_->mu_);
        if (t_->killed_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "killed");
        *h.mutable_tablet_alias() = t_->alias_.ToProto();
        h.mutable_target()->set_keyspace(t_->keyspace_);
        h.mutable_target()->set_shard(t_->shard_);
        h.mutable_target()->set_tablet_type(t_->state_.type);
        h.set_serving(true);
        h.set_primary_term(t_->state_.term);
      }
      if (context->IsCancelled() || !writer->Write(h)) return grpc::Status::CANCELLED;
      absl::MutexLock l(&t_->mu_);
      t_->mu_.AwaitWithTimeout(absl::Condition(&t_->killed_), absl::Milliseconds(50));
    }
  }

 private:
  FakeTablet* const t_;
};

// ---- FakeTablet

FakeTablet::FakeTablet(FakeCluster* cluster, topo::TabletAlias alias)
    : cluster_(cluster), alias_(std::move(alias)) {}

FakeTablet::~FakeTablet() { Kill(); }

void FakeTablet::Record(const std::string& call) { state_.calls.push_back(call); }

bool FakeTablet::Fails(const std::string& method) const {
  return std::find(failing_.begin(), failing_.end(), method) != failing_.end();
}

tablet::ReplicationStatus FakeTablet::StatusLocked() const {
  tablet::ReplicationStatus s;
  s.mutable_position()->set_seq(state_.seq);
  s.mutable_position()->set_term(state_.term);
  s.set_term(state_.term);
  s.set_running(state_.replicating);
  s.set_connected(state_.replicating);
  s.set_is_primary(state_.type == topodata::PRIMARY);
  if (!state_.source.empty()) {
    auto a = topo::TabletAlias::Parse(state_.source);
    if (a.ok()) *s.mutable_source() = a->ToProto();
  }
  return s;
}

FakeState FakeTablet::state() const {
  absl::MutexLock l(&mu_);
  return state_;
}

void FakeTablet::set_seq(int64_t seq) {
  absl::MutexLock l(&mu_);
  state_.seq = seq;
}

void FakeTablet::FailRpc(const std::string& method) {
  absl::MutexLock l(&mu_);
  failing_.push_back(method);
}

bool FakeTablet::killed() const {
  absl::MutexLock l(&mu_);
  return killed_;
}

void FakeTablet::Kill() {
  {
    absl::MutexLock l(&mu_);
    if (killed_) return;
    killed_ = true;
  }
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
}

void FakeTablet::Publish() {
  FakeState s = state();
  (void)cluster_->ts().UpdateTabletFields(alias_, [&](topodata::Tablet& t) -> absl::Status {
    t.set_type(s.type);
    t.set_primary_term(s.term);
    return absl::OkStatus();
  });
}

FakeTablet* FakeCluster::Add(const std::string& alias, const std::string& keyspace,
                             const std::string& shard, topodata::TabletType type, int64_t seq,
                             int64_t term) {
  absl::StatusOr<topo::TabletAlias> a = topo::TabletAlias::Parse(alias);
  if (!a.ok()) return nullptr;
  std::unique_ptr<FakeTablet> t(new FakeTablet(this, *a));
  t->keyspace_ = keyspace;
  t->shard_ = shard;
  t->state_.type = type;
  t->state_.seq = seq;
  t->state_.term = term;
  t->state_.read_only = type != topodata::PRIMARY;
  t->manager_ = std::make_unique<FakeTablet::ManagerService>(t.get());
  t->replication_ = std::make_unique<FakeTablet::ReplicationService>(t.get());
  t->health_ = std::make_unique<FakeTablet::HealthService>(t.get());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &t->port_);
  builder.RegisterService(t->manager_.get());
  builder.RegisterService(t->replication_.get());
  builder.RegisterService(t->health_.get());
  t->server_ = builder.BuildAndStart();
  if (t->server_ == nullptr) return nullptr;

  topodata::Tablet rec;
  *rec.mutable_alias() = a->ToProto();
  rec.set_hostname("127.0.0.1");
  (*rec.mutable_port_map())["grpc"] = t->port_;
  rec.set_keyspace(keyspace);
  rec.set_shard(shard);
  rec.set_type(type);
  rec.set_primary_term(term);
  if (!ts_->PutTablet(rec).ok()) return nullptr;
  if (!ts_->UpdateShardReplication(a->cell, keyspace, shard, *a, false).ok()) return nullptr;
  if (type == topodata::PRIMARY) {
    auto s = ts_->UpdateShardFields(keyspace, shard, [&](topodata::Shard& sh) -> absl::Status {
      *sh.mutable_primary_alias() = a->ToProto();
      sh.set_primary_term(term);
      return absl::OkStatus();
    });
    if (!s.ok()) return nullptr;
  }
  FakeTablet* raw = t.get();
  absl::MutexLock l(&mu_);
  tablets_[alias] = std::move(t);
  return raw;
}

FakeTablet* FakeCluster::Find(const std::string& alias) {
  absl::MutexLock l(&mu_);
  auto it = tablets_.find(alias);
  return it == tablets_.end() ? nullptr : it->second.get();
}

}  // namespace shale::ctl::fakes
