// Replication handlers: StreamLog, Clone, ReplicationStatus, PrimaryPosition,
// WaitForPosition, Start/StopReplication, SetReplicationSource.

#include "base/status_macros.h"
#include "tablet/client/grpc_status.h"
#include "tablet/proto_time.h"
#include "tablet/replication/clone.h"
#include "tablet/replication/log_streamer.h"
#include "tablet/services.h"

namespace shale::tablet {
grpc::Status ReplicationService::StreamLog(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<StreamLogResponse, StreamLogRequest>* stream) {
  return RunTabletCall(ctx_, [&] {
    return replication::ServeStreamLog(context, stream, *ctx_->engine,
                                       ctx_->replication->position(), ctx_->replication->acks(),
                                       ctx_->stopping);
  });
}

grpc::Status ReplicationService::Clone(grpc::ServerContext* context, const CloneRequest* request,
                                       grpc::ServerWriter<CloneResponse>* writer) {
  return RunTabletCall(ctx_, [&] {
    return replication::ServeClone(context, *request, writer, *ctx_->engine, ctx_->scratch_dir);
  });
}

grpc::Status ReplicationService::ReplicationStatus(grpc::ServerContext*,
                                                   const ReplicationStatusRequest*,
                                                   ReplicationStatusResponse* response) {
  return RunTabletCall(ctx_, [&] {
    *response->mutable_status() = ctx_->replication->Status();
    return absl::OkStatus();
  });
}

grpc::Status ReplicationService::PrimaryPosition(grpc::ServerContext*,
                                                 const PrimaryPositionRequest*,
                                                 PrimaryPositionResponse* response) {
  return RunTabletCall(ctx_, [&] {
    *response->mutable_position() = ctx_->replication->position().Get();
    return absl::OkStatus();
  });
}

grpc::Status ReplicationService::WaitForPosition(grpc::ServerContext*,
                                                 const WaitForPositionRequest* request,
                                                 WaitForPositionResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    const absl::Time deadline = request->has_deadline() ? FromProtoTime(request->deadline())
                                                        : absl::Now() + absl::Seconds(30);
    const bool reached = ctx_->replication->position().WaitFor(request->seq(), deadline);
    *response->mutable_position() = ctx_->replication->position().Get();
    if (!reached) {
      return absl::DeadlineExceededError(
          absl::StrCat("log entry ", request->seq(), " not reached in time (at ",
                       response->position().seq(), ")"));
    }
    return absl::OkStatus();
  });
}

grpc::Status ReplicationService::StartReplication(grpc::ServerContext*,
                                                  const StartReplicationRequest*,
                                                  StartReplicationResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    if (ctx_->replication->is_primary()) {
      return absl::FailedPreconditionError("the primary does not replicate");
    }
    ctx_->replication->StartReplication();
    *response->mutable_status() = ctx_->replication->Status();
    return absl::OkStatus();
  });
}

grpc::Status ReplicationService::StopReplication(grpc::ServerContext*,
                                                 const StopReplicationRequest*,
                                                 StopReplicationResponse* response) {
  return RunTabletCall(ctx_, [&] {
    ctx_->replication->StopReplication();
    *response->mutable_status() = ctx_->replication->Status();
    return absl::OkStatus();
  });
}

grpc::Status ReplicationService::SetReplicationSource(grpc::ServerContext*,
                                                      const SetReplicationSourceRequest* request,
                                                      SetReplicationSourceResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    RETURN_IF_ERROR(
        ctx_->replication->SetSource(request->source(), request->term(), request->start()));
    *response->mutable_status() = ctx_->replication->Status();
    return absl::OkStatus();
  });
}

}  // namespace shale::tablet
