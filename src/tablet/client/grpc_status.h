#pragma once

// absl::Status <-> grpc::Status for the tablet's services. Codes map
// one-to-one (they share their numbers). The SQLSTATE of an error travels in
// grpc::Status::error_details as a serialized shale.tablet.QueryError, so a
// client gets back the same code, message and SQLSTATE the engine produced
// (read with SqlState() from base/sqlstate.h).

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "tablet_data.pb.h"

namespace shale::tablet {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse; the SQLSTATE (if any) comes back as the engine's payload, so
// SqlState(status) from base/sqlstate.h reads it.
absl::Status FromGrpcStatus(const grpc::Status& status);

// For errors carried inside stream responses, and back (a code of 0 is OK).
QueryError ToQueryError(const absl::Status& status);
absl::Status FromQueryError(const QueryError& error);

}  // namespace shale::tablet
