// Reshard service, filtered replication: CopyRows (source side) and the
// stream RPCs of the target's primary. Not built yet.
#include "tablet/services.h"

namespace shale::tablet {

grpc::Status ReshardService::CopyRows(grpc::ServerContext*, const CopyRowsRequest*,
                                      grpc::ServerWriter<CopyRowsResponse>*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "CopyRows is not built yet");
}
grpc::Status ReshardService::StreamStatus(grpc::ServerContext*, const StreamStatusRequest*,
                                          StreamStatusResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "StreamStatus is not built yet");
}
grpc::Status ReshardService::WaitForStream(grpc::ServerContext*, const WaitForStreamRequest*,
                                           WaitForStreamResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "WaitForStream is not built yet");
}
grpc::Status ReshardService::SyncStreams(grpc::ServerContext*, const SyncStreamsRequest*,
                                         SyncStreamsResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "SyncStreams is not built yet");
}

}  // namespace shale::tablet
