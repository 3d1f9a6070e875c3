#pragma once

// GrpcSession: one Query.Session stream over gRPC with SessionSocket's
// surface (Write, Read, Shutdown). The gateway uses it for a tablet whose
// session port it cannot use: with internal TLS (--grpc-tls-cert) a tablet
// keeps its plaintext session port on loopback, so a gateway on another
// machine carries its sessions over the tablet's (TLS) gRPC port instead.
//
// Calls block the calling thread (gRPC's synchronous API); on a fiber, run
// them through fiber::RunBlocking. Owned by one TabletStream; Write and Read
// from one thread at a time, Shutdown from any thread (it wakes a blocked
// Read). Keeps the TabletClient (its channel) alive.

#include <memory>

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "tablet/client/tablet_client.h"
#include "tablet_service.grpc.pb.h"

namespace shale::tablet {

class GrpcSession {
 public:
  // Opens the stream (the channel connects lazily: a tablet that cannot be
  // reached fails the first Write or Read).
  explicit GrpcSession(std::shared_ptr<TabletClient> client);
  ~GrpcSession();
  GrpcSession(const GrpcSession&) = delete;
  GrpcSession& operator=(const GrpcSession&) = delete;

  // Unavailable when the stream is broken (the request was not sent).
  absl::Status Write(const SessionRequest& request);
  // OutOfRange when the tablet ended the stream cleanly; otherwise the
  // stream's error (Unavailable when the tablet went away).
  absl::Status Read(SessionResponse* response);
  void Shutdown();

 private:
  const std::shared_ptr<TabletClient> client_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<SessionRequest, SessionResponse>> stream_;
  bool finished_ = false;
};

}  // namespace shale::tablet
