// Reshard service, filtered replication (issue 10, docs/resharding.md):
// CopyRows (the source side: one snapshot, reshard/copy_source.h) and the
// stream RPCs of a target's primary over its StreamManager
// (reshard/stream_manager.h): StreamStatus, WaitForStream, SyncStreams.
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "tablet/client/grpc_status.h"
#include "tablet/reshard/copy_source.h"
#include "tablet/services.h"

namespace shale::tablet {

grpc::Status ReshardService::CopyRows(grpc::ServerContext* context, const CopyRowsRequest* request,
                                      grpc::ServerWriter<CopyRowsResponse>* writer) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    return reshard::ServeCopyRows(*ctx_->engine, *request,
                                  [&](const CopyRowsResponse& response) {
                                    if (context->IsCancelled() || ctx_->stopping.load()) {
                                      return false;
                                    }
                                    return writer->Write(response);
                                  });
  });
}

grpc::Status ReshardService::StreamStatus(grpc::ServerContext*, const StreamStatusRequest*,
                                          StreamStatusResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    for (StreamState& s : ctx_->streams->States()) *response->add_streams() = std::move(s);
    *response->mutable_alias() = ctx_->state->Snapshot().record.alias();
    return absl::OkStatus();
  });
}

grpc::Status ReshardService::WaitForStream(grpc::ServerContext*,
                                           const WaitForStreamRequest* request,
                                           WaitForStreamResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    if (request->timeout_ms() < 0 || request->position().seq() < 0 ||
        request->position().row() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "WaitForStream: timeout_ms and the position must not be negative (timeout_ms ",
          request->timeout_ms(), ", position ", request->position().seq(), ".",
          request->position().term(), ".", request->position().row(), ")"));
    }
    const absl::Duration timeout = request->timeout_ms() > 0
                                       ? absl::Milliseconds(request->timeout_ms())
                                       : absl::Seconds(30);
    ASSIGN_OR_RETURN(StreamState s, ctx_->streams->WaitForPosition(
                                        request->uid(), request->position(), absl::Now() + timeout));
    *response->mutable_stream() = std::move(s);
    return absl::OkStatus();
  });
}

grpc::Status ReshardService::SyncStreams(grpc::ServerContext*, const SyncStreamsRequest*,
                                         SyncStreamsResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<StreamState> states, ctx_->streams->Sync());
    for (StreamState& s : states) *response->add_streams() = std::move(s);
    return absl::OkStatus();
  });
}

}  // namespace shale::tablet
