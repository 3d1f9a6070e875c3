// Leadership handlers: PromoteReplica, MigratePrimary, DemotePrimary (see
// leadership.h for what each does).

#include "base/status_macros.h"
#include "tablet/client/grpc_status.h"
#include "tablet/services.h"

namespace shale::tablet {
grpc::Status TabletManagerService::PromoteReplica(grpc::ServerContext*,
                                                  const PromoteReplicaRequest* request,
                                                  PromoteReplicaResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(*response->mutable_position(), ctx_->leadership->Promote(request->term()));
    return absl::OkStatus();
  });
}

grpc::Status TabletManagerService::MigratePrimary(grpc::ServerContext*,
                                                  const MigratePrimaryRequest* request,
                                                  MigratePrimaryResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(*response, ctx_->leadership->Migrate(*request));
    return absl::OkStatus();
  });
}

grpc::Status TabletManagerService::DemotePrimary(grpc::ServerContext*,
                                                 const DemotePrimaryRequest*,
                                                 DemotePrimaryResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(*response->mutable_position(), ctx_->leadership->Demote());
    return absl::OkStatus();
  });
}

}  // namespace shale::tablet
