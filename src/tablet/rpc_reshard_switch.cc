// Reshard service, the write freeze of a primary switch. Not built yet.
#include "tablet/services.h"

namespace shale::tablet {

grpc::Status ReshardService::FreezeWrites(grpc::ServerContext*, const FreezeWritesRequest*,
                                          FreezeWritesResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "FreezeWrites is not built yet");
}
grpc::Status ReshardService::ThawWrites(grpc::ServerContext*, const ThawWritesRequest*,
                                        ThawWritesResponse*) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "ThawWrites is not built yet");
}

}  // namespace shale::tablet
