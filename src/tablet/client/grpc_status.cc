#include "tablet/client/grpc_status.h"

#include "absl/strings/cord.h"
#include "base/sqlstate.h"

namespace shale::tablet {

QueryError ToQueryError(const absl::Status& status) {
  QueryError e;
  e.set_code(static_cast<int32_t>(status.code()));
  e.set_message(std::string(status.message()));
  if (status.GetPayload(kSqlStateTypeUrl).has_value()) {
    e.set_sqlstate(SqlState(status));
  }
  return e;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      ToQueryError(status).SerializeAsString());
}

absl::Status FromQueryError(const QueryError& error) {
  if (error.code() == 0) return absl::OkStatus();
  absl::Status s(static_cast<absl::StatusCode>(error.code()), error.message());
  if (!error.sqlstate().empty()) s = WithSqlState(std::move(s), error.sqlstate());
  return s;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status s(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  QueryError e;
  if (!status.error_details().empty() && e.ParseFromString(status.error_details()) &&
      !e.sqlstate().empty()) {
    s = WithSqlState(std::move(s), e.sqlstate());
  }
  return s;
}

}  // namespace shale::tablet
