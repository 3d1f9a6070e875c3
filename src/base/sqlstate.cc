#include "base/sqlstate.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace shale {

absl::Status SqlError(absl::StatusCode code, absl::string_view sqlstate,
                      absl::string_view message) {
  return WithSqlState(absl::Status(code, message), sqlstate);
}

absl::Status WithSqlState(absl::Status status, absl::string_view sqlstate) {
  if (!status.ok()) status.SetPayload(kSqlStateTypeUrl, absl::Cord(sqlstate));
  return status;
}

std::string SqlState(const absl::Status& status) {
  if (status.ok()) return "00000";
  auto payload = status.GetPayload(kSqlStateTypeUrl);
  if (!payload.has_value()) return std::string(sqlstate::kInternalError);
  return std::string(*payload);
}

std::string SqlStateOrDefault(const absl::Status& status) {
  if (status.ok()) return "00000";
  if (auto payload = status.GetPayload(kSqlStateTypeUrl); payload.has_value()) {
    return std::string(*payload);
  }
  switch (status.code()) {
    case absl::StatusCode::kAborted: return std::string(sqlstate::kSerializationFailure);
    case absl::StatusCode::kUnavailable: return std::string(sqlstate::kConnectionFailure);
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled: return std::string(sqlstate::kQueryCanceled);
    case absl::StatusCode::kFailedPrecondition:
      return std::string(sqlstate::kObjectNotInPrerequisiteState);
    case absl::StatusCode::kNotFound: return std::string(sqlstate::kUndefinedObject);
    case absl::StatusCode::kAlreadyExists: return std::string(sqlstate::kUniqueViolation);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return std::string(sqlstate::kInvalidParameterValue);
    case absl::StatusCode::kUnimplemented: return std::string(sqlstate::kFeatureNotSupported);
    case absl::StatusCode::kPermissionDenied: return std::string(sqlstate::kInsufficientPrivilege);
    case absl::StatusCode::kUnauthenticated: return std::string(sqlstate::kInvalidAuthorization);
    case absl::StatusCode::kResourceExhausted: return std::string(sqlstate::kProgramLimitExceeded);
    default: return std::string(sqlstate::kInternalError);
  }
}

absl::Status WithErrorPosition(absl::Status status, int position) {
  if (!status.ok() && position > 0) {
    status.SetPayload(kErrorPositionTypeUrl, absl::Cord(std::to_string(position)));
  }
  return status;
}

int ErrorPosition(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorPositionTypeUrl);
  int position = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &position)) return 0;
  return position;
}

}  // namespace shale
