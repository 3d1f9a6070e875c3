// TabletManager handlers: Ping, GetState, ChangeType, SetReadOnly,
// SetReadWrite, RefreshState, ExecuteFetchAsDba. Each change is applied at
// once by the StateManager; the record follows in the background.

#include "base/status_macros.h"
#include "tablet/client/grpc_status.h"
#include "tablet/query_result.h"
#include "tablet/services.h"

namespace shale::tablet {
namespace {

// Runs a manager call: readiness, then fn, then the state into *state.
grpc::Status RunStateCall(TabletContext* ctx, TabletState* state,
                          absl::FunctionRef<absl::Status()> fn) {
  return RunTabletCall(ctx, [&]() -> absl::Status {
    RETURN_IF_ERROR(fn());
    if (state != nullptr) *state = MakeTabletState(*ctx);
    return absl::OkStatus();
  });
}

}  // namespace

grpc::Status RunTabletCall(TabletContext* ctx, absl::FunctionRef<absl::Status()> fn) {
  absl::Status s = ctx->CheckReady();
  if (s.ok()) s = fn();
  return ToGrpcStatus(s);
}

bool RefusesWrites(const TabletContext& ctx, const StateSnapshot& snap) {
  return snap.read_only || (ctx.replication != nullptr && ctx.replication->fence().Holding());
}

TabletState MakeTabletState(const TabletContext& ctx) {
  StateSnapshot snap = ctx.state->Snapshot();
  const topodata::Tablet& r = snap.record;
  TabletState s;
  *s.mutable_alias() = r.alias();
  s.mutable_target()->set_keyspace(r.keyspace());
  s.mutable_target()->set_shard(r.shard());
  s.mutable_target()->set_tablet_type(r.type());
  s.set_serving(snap.serving);
  s.set_read_only(RefusesWrites(ctx, snap));
  s.set_primary_term(r.primary_term());
  *s.mutable_primary_term_start_time() = r.primary_term_start_time();
  if (ctx.engine != nullptr) {
    s.set_db_path(ctx.engine->path());
    s.set_open_transactions(ctx.engine->Stats().open_transactions);
  }
  if (ctx.publisher != nullptr) {
    PublishStatus ps = ctx.publisher->Status();
    s.set_record_in_sync(ps.in_sync);
    s.set_record_error(ps.last_error);
  }
  return s;
}

grpc::Status TabletManagerService::Ping(grpc::ServerContext*, const PingRequest*,
                                        PingResponse* response) {
  return RunStateCall(ctx_, nullptr, [&] {
    *response->mutable_alias() = ctx_->state->Snapshot().record.alias();
    return absl::OkStatus();
  });
}

grpc::Status TabletManagerService::GetState(grpc::ServerContext*, const GetStateRequest*,
                                            GetStateResponse* response) {
  return RunStateCall(ctx_, response->mutable_state(), [] { return absl::OkStatus(); });
}

grpc::Status TabletManagerService::ChangeType(grpc::ServerContext*,
                                              const ChangeTypeRequest* request,
                                              ChangeTypeResponse* response) {
  return RunStateCall(ctx_, response->mutable_state(),
                      [&] { return ctx_->state->ChangeType(request->tablet_type()); });
}

grpc::Status TabletManagerService::SetReadOnly(grpc::ServerContext*, const SetReadOnlyRequest*,
                                               SetReadOnlyResponse* response) {
  return RunStateCall(ctx_, response->mutable_state(), [&] { return ctx_->state->SetReadOnly(); });
}

grpc::Status TabletManagerService::SetReadWrite(grpc::ServerContext*, const SetReadWriteRequest*,
                                                SetReadWriteResponse* response) {
  return RunStateCall(ctx_, response->mutable_state(), [&] { return ctx_->state->SetReadWrite(); });
}

grpc::Status TabletManagerService::RefreshState(grpc::ServerContext*, const RefreshStateRequest*,
                                                RefreshStateResponse* response) {
  return RunStateCall(ctx_, response->mutable_state(), [&]() -> absl::Status {
    const topodata::Tablet r = ctx_->state->Snapshot().record;
    ASSIGN_OR_RETURN(topo::ShardInfo shard, ctx_->ts->GetShard(r.keyspace(), r.shard()));
    ctx_->state->ApplyShardRecord(shard.record);
    if (ctx_->leadership != nullptr) ctx_->leadership->AfterStateChange();
    if (ctx_->replication != nullptr) {
      absl::StatusOr<topo::KeyspaceInfo> ks = ctx_->ts->GetKeyspace(r.keyspace());
      if (ks.ok()) {
        ctx_->replication->SetSemiSync(ks->record.durability_policy() == topodata::SEMI_SYNC);
      }
    }
    return absl::OkStatus();
  });
}

grpc::Status TabletManagerService::ExecuteFetchAsDba(grpc::ServerContext*,
                                                     const ExecuteFetchAsDbaRequest* request,
                                                     ExecuteFetchAsDbaResponse* response) {
  return RunQueryCall(ctx_, QueryKind::kDba, true, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<engine::Value> binds, FromProtoValues(request->binds()));
    ASSIGN_OR_RETURN(engine::ResultSet rs, ctx_->engine->ExecuteAsDba(request->sql(), binds));
    *response->mutable_result() = ToProtoResult(rs);
    return absl::OkStatus();
  });
}

}  // namespace shale::tablet
