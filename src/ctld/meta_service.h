#pragma once

// MetaService is ctld's gRPC meta service (proto/meta_service.proto; DESIGN
// §6): schema changes with cluster-wide table ids, run by a DdlRunner. Only
// the leading ctld does the work; a standby answers FAILED_PRECONDITION
// naming the leader, so callers (the gateway's TableCreator/TableDropper,
// `shale ctl`) go to the leader. Created by RegisterCtldServices; the
// election and topology are borrowed. Called on gRPC's threads, concurrently.

#include "ctld/ctld_services.h"
#include "ctld/ddl_runner.h"
#include "meta_service.grpc.pb.h"

namespace shale::ctld {

class MetaService final : public meta::Meta::Service {
 public:
  explicit MetaService(const CtldContext& ctx) : ctx_(ctx), runner_(ctx.ts) {}

  grpc::Status CreateTable(grpc::ServerContext*, const meta::DdlRequest* request,
                           meta::DdlResponse* response) override;
  grpc::Status DropTable(grpc::ServerContext*, const meta::DdlRequest* request,
                         meta::DdlResponse* response) override;
  grpc::Status AlterTable(grpc::ServerContext*, const meta::DdlRequest* request,
                          meta::DdlResponse* response) override;
  grpc::Status CreateIndex(grpc::ServerContext*, const meta::DdlRequest* request,
                           meta::DdlResponse* response) override;
  grpc::Status OtherDdl(grpc::ServerContext*, const meta::DdlRequest* request,
                        meta::DdlResponse* response) override;

 private:
  grpc::Status Run(DdlKind kind, const meta::DdlRequest& request, meta::DdlResponse* response);

  const CtldContext ctx_;
  DdlRunner runner_;
};

}  // namespace shale::ctld
