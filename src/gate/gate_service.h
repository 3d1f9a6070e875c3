#pragma once

// GateService: gRPC Gate.Execute (proto/gate_service.proto), for programs
// and tests that want explicit targets (shards, keyspace ids, key ranges) or
// the gateway's routing without PostgreSQL. Each call is one autocommit
// statement. Owned by the Gateway; gRPC threads call it concurrently.

#include "gate/gate_context.h"
#include "gate_service.grpc.pb.h"

namespace shale::gate {

class GateService final : public Gate::Service {
 public:
  explicit GateService(GateContext* ctx) : ctx_(ctx) {}
  grpc::Status Execute(grpc::ServerContext* context, const ExecuteRequest* request,
                       ExecuteResponse* response) override;

 private:
  GateContext* const ctx_;
};

}  // namespace shale::gate
