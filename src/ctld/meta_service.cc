#include "ctld/meta_service.h"

#include "absl/strings/str_cat.h"
#include "tablet/client/grpc_status.h"

namespace shale::ctld {

grpc::Status MetaService::Run(DdlKind kind, const meta::DdlRequest& request,
                              meta::DdlResponse* response) {
  if (ctx_.election != nullptr && !ctx_.election->IsLeader()) {
    absl::StatusOr<LeaderInfo> leader = ctx_.election->CurrentLeader();
    return tablet::ToGrpcStatus(absl::FailedPreconditionError(absl::StrCat(
        "this ctld is a standby; the meta service runs on the leader",
        leader.ok() ? absl::StrCat(" at ", leader->grpc_address, " (", leader->holder, ")")
                    : absl::StrCat(" (no leader now: ", leader.status().message(), ")"))));
  }
  absl::StatusOr<meta::DdlResponse> r = runner_.Run(kind, request);
  if (!r.ok()) return tablet::ToGrpcStatus(r.status());
  *response = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status MetaService::CreateTable(grpc::ServerContext*, const meta::DdlRequest* request,
                                      meta::DdlResponse* response) {
  return Run(DdlKind::kCreateTable, *request, response);
}
grpc::Status MetaService::DropTable(grpc::ServerContext*, const meta::DdlRequest* request,
                                    meta::DdlResponse* response) {
  return Run(DdlKind::kDropTable, *request, response);
}
grpc::Status MetaService::AlterTable(grpc::ServerContext*, const meta::DdlRequest* request,
                                     meta::DdlResponse* response) {
  return Run(DdlKind::kAlterTable, *request, response);
}
grpc::Status MetaService::CreateIndex(grpc::ServerContext*, const meta::DdlRequest* request,
                                      meta::DdlResponse* response) {
  return Run(DdlKind::kCreateIndex, *request, response);
}
grpc::Status MetaService::OtherDdl(grpc::ServerContext*, const meta::DdlRequest* request,
                                   meta::DdlResponse* response) {
  return Run(DdlKind::kOther, *request, response);
}

}  // namespace shale::ctld
