#include "tablet/client/grpc_session.h"

#include "absl/strings/str_cat.h"
#include "tablet/client/grpc_status.h"

namespace shale::tablet {

GrpcSession::GrpcSession(std::shared_ptr<TabletClient> client) : client_(std::move(client)) {
  stream_ = client_->query().Session(&context_);
}

GrpcSession::~GrpcSession() {
  if (finished_) return;
  context_.TryCancel();
  stream_->Finish().ok();  // returns at once after the cancel
}

absl::Status GrpcSession::Write(const SessionRequest& request) {
  if (finished_ || !stream_->Write(request)) {
    return absl::UnavailableError(
        absl::StrCat("the gRPC session stream to ", client_->address(), " is closed"));
  }
  return absl::OkStatus();
}

absl::Status GrpcSession::Read(SessionResponse* response) {
  if (!finished_ && stream_->Read(response)) return absl::OkStatus();
  if (finished_) return absl::UnavailableError("the gRPC session stream is closed");
  finished_ = true;
  const grpc::Status s = stream_->Finish();
  if (s.ok()) return absl::OutOfRangeError("the tablet ended the session");
  absl::Status status = FromGrpcStatus(s);
  return absl::Status(status.code(),
                      absl::StrCat("gRPC session to ", client_->address(), ": ", status.message()));
}

void GrpcSession::Shutdown() { context_.TryCancel(); }

}  // namespace shale::tablet
