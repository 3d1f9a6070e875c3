#pragma once

// The one place where ctld's gRPC services are created and registered on its
// server (`shale ctld --grpc-port`): the meta service (meta_service.h: table
// ids and DDL), besides gRPC's standard health service, which the command
// enables before building the server.

#include <memory>
#include <vector>

#include "base/metrics/registry.h"
#include "ctld/leader_election.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/service_type.h"
#include "topo/server.h"

namespace shale::ctld {

// What ctld's services may use; every pointer is borrowed from ctld's main
// and outlives the gRPC server.
struct CtldContext {
  topo::Server* ts = nullptr;
  // Whether this ctld leads: a service whose work only the leader may do
  // answers FailedPrecondition naming the leader (election->CurrentLeader())
  // while it stands by.
  LeaderElection* election = nullptr;
  metrics::MetricsRegistry* metrics = nullptr;
};

// Creates ctld's services, registers them on builder and returns them: the
// caller keeps them until the server has shut down.
std::vector<std::unique_ptr<grpc::Service>> RegisterCtldServices(grpc::ServerBuilder& builder,
                                                                 const CtldContext& ctx);

}  // namespace shale::ctld
