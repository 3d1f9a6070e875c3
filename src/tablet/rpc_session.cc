// Query.Session: the gateway's long-lived query stream over gRPC (DESIGN §5).
// The requests run through a SessionHandler, answered in order on the
// stream; the session port (session_server.h) is the same session without
// gRPC, which the gateway prefers.

#include "tablet/services.h"
#include "tablet/session_handler.h"

namespace shale::tablet {

grpc::Status QueryService::Session(
    grpc::ServerContext*, grpc::ServerReaderWriter<SessionResponse, SessionRequest>* stream) {
  SessionHandler handler(ctx_);
  SessionRequest request;
  SessionResponse response;
  while (stream->Read(&request)) {
    handler.Run(request, &response);
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace shale::tablet
