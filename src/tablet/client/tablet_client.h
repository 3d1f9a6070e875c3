#pragma once

// TabletClient talks to one tablet's gRPC services (Query, TabletManager,
// Health, Replication, Changes): `shale ctl`'s tablet commands, tests and benchmarks use it. A
// tablet is found through its record: hostname and port_map["grpc"].
//
// Lifecycle: Connect / ForTablet, then calls; owns its channel. Thread-safe
// (gRPC stubs are).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "tablet/client/grpc_status.h"
#include "tablet_service.grpc.pb.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::tablet {

class TabletClient {
 public:
  // address: "host:port". The channel connects lazily.
  static std::unique_ptr<TabletClient> Connect(const std::string& address);

  // The tablet's gRPC address from its record: hostname:port_map["grpc"].
  // NotFound for an unknown tablet; FailedPrecondition if the record has no
  // gRPC port; Unavailable when the topology is down.
  static absl::StatusOr<std::string> GrpcAddress(topo::Server& ts, const topo::TabletAlias& alias);

  // Reads the tablet's record and connects to hostname:port_map["grpc"].
  // NotFound for an unknown tablet; FailedPrecondition if the record has no
  // gRPC port; Unavailable when the topology is down.
  static absl::StatusOr<std::unique_ptr<TabletClient>> ForTablet(topo::Server& ts,
                                                                 const topo::TabletAlias& alias);

  // Calls one unary RPC with a deadline; the tablet's error comes back with
  // its code, message and SQLSTATE (SqlState in base/sqlstate.h).
  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> Call(Stub& stub,
                            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request, absl::Duration timeout = absl::Seconds(30)) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
    Resp response;
    grpc::Status s = (stub.*method)(&context, request, &response);
    if (!s.ok()) return FromGrpcStatus(s);
    return response;
  }

  Query::Stub& query() { return *query_; }
  TabletManager::Stub& manager() { return *manager_; }
  Health::Stub& health() { return *health_; }
  Replication::Stub& replication() { return *replication_; }
  Changes::Stub& changes() { return *changes_; }
  Reshard::Stub& reshard() { return *reshard_; }
  const std::string& address() const { return address_; }

 private:
  explicit TabletClient(std::string address);

  const std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Query::Stub> query_;
  std::unique_ptr<TabletManager::Stub> manager_;
  std::unique_ptr<Health::Stub> health_;
  std::unique_ptr<Replication::Stub> replication_;
  std::unique_ptr<Changes::Stub> changes_;
  std::unique_ptr<Reshard::Stub> reshard_;
};

}  // namespace shale::tablet
