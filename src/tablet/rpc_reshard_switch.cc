// Reshard service, the write freeze of a primary switch (docs/resharding.md,
// "The primary switch"): FreezeWrites and ThawWrites over the tablet's
// ServingPrimary (serving_primary.h).
#include "base/status_macros.h"
#include "tablet/client/grpc_status.h"
#include "tablet/services.h"

namespace shale::tablet {
namespace {

constexpr absl::Duration kDefaultMaxFreeze = absl::Seconds(30);
constexpr absl::Duration kDefaultGrace = absl::Seconds(1);
// How long the writes admitted before the freeze may take to finish.
constexpr absl::Duration kFlushTimeout = absl::Seconds(10);

absl::Duration MillisOr(int64_t ms, absl::Duration fallback) {
  return ms > 0 ? absl::Milliseconds(ms) : fallback;
}

}  // namespace

grpc::Status ReshardService::FreezeWrites(grpc::ServerContext*, const FreezeWritesRequest* request,
                                          FreezeWritesResponse* response) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    if (request->max_freeze_ms() < 0 || request->grace_ms() < 0) {
      return absl::InvalidArgumentError("max_freeze_ms and grace_ms must not be negative");
    }
    ASSIGN_OR_RETURN(LogPosition p,
                     ctx_->serving_primary->Freeze(
                         MillisOr(request->max_freeze_ms(), kDefaultMaxFreeze),
                         MillisOr(request->grace_ms(), kDefaultGrace), kFlushTimeout));
    response->mutable_position()->set_seq(p.seq());
    response->mutable_position()->set_term(p.term());
    response->mutable_position()->set_row(0);
    return absl::OkStatus();
  });
}

grpc::Status ReshardService::ThawWrites(grpc::ServerContext*, const ThawWritesRequest* request,
                                        ThawWritesResponse*) {
  return RunTabletCall(ctx_, [&]() -> absl::Status {
    ctx_->serving_primary->Thaw(
        request->resharded(),
        std::vector<std::string>(request->denied_tables().begin(), request->denied_tables().end()));
    return absl::OkStatus();
  });
}

}  // namespace shale::tablet
