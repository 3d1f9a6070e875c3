#pragma once

// absl::Status <-> grpc::Status for the tablet's services. Codes map
// one-to-one (they share their numbers). The SQLSTATE of an error travels in
// grpc::Status::error_details as a serialized shale.tablet.QueryError, so a
// client gets back the same code, message and SQLSTATE the engine produced.

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "tablet_data.pb.h"

namespace shale::tablet {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse; the SQLSTATE (if any) comes back as the engine's payload, so
// engine::SqlState(status) reads it.
absl::Status FromGrpcStatus(const grpc::Status& status);

// For errors carried inside stream responses.
QueryError ToQueryError(const absl::Status& status);

}  // namespace shale::tablet
