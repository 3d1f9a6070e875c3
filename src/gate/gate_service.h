#pragma once

// GateService: gRPC Gate.Execute (proto/gate_service.proto), for programs
// and tests that want explicit targets (shards, keyspace ids, key ranges) or
// the gateway's routing without PostgreSQL. Each call is one autocommit
// statement. Gate.Subscribe streams a keyspace's committed row changes
// through a changes::Subscription (src/changes) on the gateway's topology
// connection, one gRPC thread per call plus one thread per shard. Owned by
// the Gateway; gRPC threads call it concurrently.

#include "gate/gate_context.h"
#include "gate_service.grpc.pb.h"

namespace shale::gate {

class GateService final : public Gate::Service {
 public:
  explicit GateService(GateContext* ctx) : ctx_(ctx) {}
  grpc::Status Execute(grpc::ServerContext* context, const ExecuteRequest* request,
                       ExecuteResponse* response) override;
  // Until the client cancels; errors: INVALID_ARGUMENT (bad `from`, tablet
  // type), NOT_FOUND (keyspace), UNAVAILABLE (no tablet to start from),
  // RESOURCE_EXHAUSTED (too slow, with the position to resume from).
  grpc::Status Subscribe(grpc::ServerContext* context, const SubscribeRequest* request,
                         grpc::ServerWriter<SubscribeResponse>* writer) override;

 private:
  GateContext* const ctx_;
};

}  // namespace shale::gate
