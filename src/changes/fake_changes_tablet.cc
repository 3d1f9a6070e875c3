#include "changes/fake_changes_tablet.h"

#include "absl/strings/str_cat.h"
#include "changes/keyspace_position.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tablet/client/grpc_status.h"

namespace shale::changes {

int64_t FakeShardLog::AppendInserts(const std::string& table, int64_t first_id, int rows,
                                    int64_t term) {
  absl::MutexLock lock(&mu_);
  const int64_t seq = ++seq_;
  term_ = term;
  for (int r = 1; r <= rows; ++r) {
    tablet::ChangeEvent e;
    e.set_op(tablet::INSERT);
    e.set_table(table);
    auto* pk = e.add_pk();
    pk->set_name("id");
    pk->mutable_value()->set_int64(first_id + r - 1);
    *e.add_after() = *pk;
    auto* v = e.add_after();
    v->set_name("v");
    v->mutable_value()->set_text(absl::StrCat("row", first_id + r - 1));
    e.set_commit_ts_us(absl::ToUnixMicros(absl::Now()));
    e.mutable_position()->set_seq(seq);
    e.mutable_position()->set_term(term);
    e.mutable_position()->set_row(r == rows ? 0 : r);
    events_.push_back(std::move(e));
  }
  return seq;
}

std::vector<tablet::ChangeEvent> FakeShardLog::After(const tablet::ChangePosition& from) const {
  absl::MutexLock lock(&mu_);
  std::vector<tablet::ChangeEvent> out;
  for (const tablet::ChangeEvent& e : events_) {
    if (PositionAfter(e.position(), from)) out.push_back(e);
  }
  return out;
}

tablet::ChangePosition FakeShardLog::Newest() const {
  absl::MutexLock lock(&mu_);
  tablet::ChangePosition p;
  p.set_seq(seq_);
  p.set_term(term_);
  return p;
}

bool FakeShardLog::WaitAfter(int64_t seq, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto newer = [this, seq]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seq_ > seq; };
  return mu_.AwaitWithTimeout(absl::Condition(&newer), timeout);
}

class FakeChangesTablet::Service final : public tablet::Changes::Service {
 public:
  explicit Service(FakeChangesTablet* t) : t_(t) {}
  grpc::Status Subscribe(grpc::ServerContext* context, const tablet::SubscribeRequest* request,
                         grpc::ServerWriter<tablet::SubscribeResponse>* writer) override {
    int generation;
    bool resend;
    {
      absl::MutexLock lock(&t_->mu_);
      ++t_->subscribes_;
      t_->last_from_ = request->from();
      if (!t_->refusal_.ok()) return tablet::ToGrpcStatus(t_->refusal_);
      generation = t_->generation_;
      resend = t_->resend_;
    }
    tablet::ChangePosition sent = resend ? tablet::ChangePosition() : request->from();
    bool moved_sent = false;
    absl::Time last_heartbeat = absl::InfinitePast();
    const absl::Duration heartbeat =
        absl::Milliseconds(request->heartbeat_ms() > 0 ? request->heartbeat_ms() : 1000);
    while (!context->IsCancelled()) {
      tablet::SubscribeResponse response;
      {
        absl::MutexLock lock(&t_->mu_);
        if (t_->stopping_ || t_->generation_ != generation) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake tablet: stream ended");
        }
        if (t_->moved_to_.has_value() && !moved_sent) {
          *response.mutable_moved_to() = t_->moved_to_->ToProto();
          moved_sent = true;
        }
      }
      for (tablet::ChangeEvent& e : t_->log_->After(sent)) {
        sent = e.position();
        *response.add_events() = std::move(e);
      }
      if (response.events_size() == 0 && !response.has_moved_to()) {
        if (!t_->log_->WaitAfter(sent.seq(), std::min(heartbeat, absl::Milliseconds(50)))) {
          // Idle: a heartbeat at the current position now and then.
          if (absl::Now() - last_heartbeat < heartbeat) continue;
          last_heartbeat = absl::Now();
          tablet::ChangeEvent* hb = response.add_events();
          hb->set_op(tablet::HEARTBEAT_EVENT);
          *hb->mutable_position() = sent;
          hb->set_commit_ts_us(absl::ToUnixMicros(absl::Now()));
        } else {
          continue;
        }
      }
      if (!writer->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  FakeChangesTablet* const t_;
};

class FakeChangesTablet::ReplicationService final : public tablet::Replication::Service {
 public:
  explicit ReplicationService(FakeChangesTablet* t) : t_(t) {}
  grpc::Status ReplicationStatus(grpc::ServerContext*, const tablet::ReplicationStatusRequest*,
                                 tablet::ReplicationStatusResponse* response) override {
    const tablet::ChangePosition p = t_->log_->Newest();
    response->mutable_status()->mutable_position()->set_seq(p.seq());
    response->mutable_status()->mutable_position()->set_term(p.term());
    return grpc::Status::OK;
  }

 private:
  FakeChangesTablet* const t_;
};

FakeChangesTablet::FakeChangesTablet(FakeShardLog* log, topo::TabletAlias alias)
    : log_(log), alias_(std::move(alias)) {
  service_ = std::make_unique<Service>(this);
  replication_ = std::make_unique<ReplicationService>(this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  builder.RegisterService(replication_.get());
  server_ = builder.BuildAndStart();
}

FakeChangesTablet::~FakeChangesTablet() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

void FakeChangesTablet::Register(topo::Server& ts, const std::string& keyspace,
                                 const std::string& shard, topodata::TabletType type) {
  topodata::Tablet t;
  *t.mutable_alias() = alias_.ToProto();
  t.set_hostname("127.0.0.1");
  (*t.mutable_port_map())["grpc"] = port_;
  t.set_keyspace(keyspace);
  t.set_shard(shard);
  t.set_type(type);
  ASSERT_TRUE(ts.PutTablet(t).ok());
  ASSERT_TRUE(ts.UpdateShardReplication(alias_.cell, keyspace, shard, alias_, false).ok());
  if (type == topodata::PRIMARY) {
    auto s = ts.UpdateShardFields(keyspace, shard, [this](topodata::Shard& s) {
      *s.mutable_primary_alias() = alias_.ToProto();
      s.set_primary_term(s.primary_term() + 1);
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s.status();
  }
}

void FakeChangesTablet::Refuse(absl::Status status) {
  absl::MutexLock lock(&mu_);
  refusal_ = std::move(status);
}

void FakeChangesTablet::EndStreams() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

void FakeChangesTablet::MoveTo(const topo::TabletAlias& to) {
  absl::MutexLock lock(&mu_);
  moved_to_ = to;
}

void FakeChangesTablet::ResendEverything(bool on) {
  absl::MutexLock lock(&mu_);
  resend_ = on;
}

int FakeChangesTablet::subscribes() const {
  absl::MutexLock lock(&mu_);
  return subscribes_;
}

tablet::ChangePosition FakeChangesTablet::last_from() const {
  absl::MutexLock lock(&mu_);
  return last_from_;
}

}  // namespace shale::changes
