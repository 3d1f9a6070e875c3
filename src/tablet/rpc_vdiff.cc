// Reshard service, VDiff. Not built yet.
#include "tablet/services.h"

namespace shale::tablet {

grpc::Status ReshardService::RowHashes(grpc::ServerContext*, const RowHashesRequest*,
                                       grpc::ServerWriter<RowHashesResponse>*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "RowHashes is not built yet");
}
grpc::Status ReshardService::VDiff(grpc::ServerContext*, const VDiffRequest*, VDiffResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "VDiff is not built yet");
}

}  // namespace shale::tablet
