#pragma once

// SQLSTATE codes carried on absl::Status (DESIGN §8: codes map onto SQLSTATE
// at the PostgreSQL front end). The code travels as a Status payload under
// kSqlStateTypeUrl whose value is the 5-character code, so it survives the
// tablet's gRPC boundary (tablet/client/grpc_status.h) and reaches the
// gateway's ErrorResponse unchanged. Stateless, safe from any thread.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shale {

inline constexpr absl::string_view kSqlStateTypeUrl = "type.shale.dev/sqlstate";

// SQLSTATE codes the engine produces (PostgreSQL's names in comments).
namespace sqlstate {
inline constexpr absl::string_view kUniqueViolation = "23505";      // unique_violation
inline constexpr absl::string_view kNotNullViolation = "23502";     // not_null_violation
inline constexpr absl::string_view kCheckViolation = "23514";       // check_violation
inline constexpr absl::string_view kForeignKeyViolation = "23503";  // foreign_key_violation
inline constexpr absl::string_view kIntegrityViolation = "23000";  // integrity_constraint_violation
inline constexpr absl::string_view kSyntaxError = "42601";         // syntax_error
inline constexpr absl::string_view kSyntaxOrAccess =
    "42000";  // syntax_error_or_access_rule_violation
inline constexpr absl::string_view kUndefinedTable = "42P01";          // undefined_table
inline constexpr absl::string_view kUndefinedColumn = "42703";         // undefined_column
inline constexpr absl::string_view kUndefinedFunction = "42883";       // undefined_function
inline constexpr absl::string_view kDuplicateTable = "42P07";          // duplicate_table
inline constexpr absl::string_view kDatatypeMismatch = "42804";        // datatype_mismatch
inline constexpr absl::string_view kInvalidTableDefinition = "42P16";  // invalid_table_definition
inline constexpr absl::string_view kInsufficientPrivilege = "42501";   // insufficient_privilege
inline constexpr absl::string_view kFeatureNotSupported = "0A000";     // feature_not_supported
inline constexpr absl::string_view kSerializationFailure = "40001";    // serialization_failure
inline constexpr absl::string_view kActiveSqlTransaction = "25001";    // active_sql_transaction
inline constexpr absl::string_view kReadOnlyTransaction = "25006";     // read_only_sql_transaction
inline constexpr absl::string_view kNoActiveTransaction = "25P01";     // no_active_sql_transaction
inline constexpr absl::string_view kInFailedTransaction = "25P02";     // in_failed_sql_transaction
inline constexpr absl::string_view kIdleInTransactionTimeout =
    "25P03";  // idle_in_transaction_session_timeout
inline constexpr absl::string_view kLockNotAvailable = "55P03";      // lock_not_available
inline constexpr absl::string_view kProtocolViolation = "08P01";     // protocol_violation
inline constexpr absl::string_view kDiskFull = "53100";              // disk_full
inline constexpr absl::string_view kOutOfMemory = "53200";           // out_of_memory
inline constexpr absl::string_view kProgramLimitExceeded = "54000";  // program_limit_exceeded
inline constexpr absl::string_view kQueryCanceled = "57014";         // query_canceled
inline constexpr absl::string_view kIoError = "58030";               // io_error
inline constexpr absl::string_view kDataCorrupted = "XX001";         // data_corrupted
inline constexpr absl::string_view kInternalError = "XX000";         // internal_error
// Used by the gateway's PostgreSQL front end.
inline constexpr absl::string_view kConnectionFailure = "08006";     // connection_failure
inline constexpr absl::string_view kInvalidPassword = "28P01";       // invalid_password
inline constexpr absl::string_view kInvalidAuthorization = "28000";  // invalid_authorization_specification
inline constexpr absl::string_view kInvalidCatalogName = "3D000";    // invalid_catalog_name
inline constexpr absl::string_view kInvalidParameterValue = "22023";  // invalid_parameter_value
inline constexpr absl::string_view kInvalidTextRepresentation = "22P02";  // invalid_text_representation
inline constexpr absl::string_view kActiveTransaction = "25001";     // active_sql_transaction
inline constexpr absl::string_view kTooManyConnections = "53300";    // too_many_connections
inline constexpr absl::string_view kAdminShutdown = "57P01";         // admin_shutdown
inline constexpr absl::string_view kObjectNotInPrerequisiteState = "55000";
inline constexpr absl::string_view kUndefinedObject = "42704";       // undefined_object
inline constexpr absl::string_view kStatementCompletionUnknown = "40003";
inline constexpr absl::string_view kInvalidColumnReference = "42P10";  // invalid_column_reference
inline constexpr absl::string_view kNumericValueOutOfRange = "22003";  // numeric_value_out_of_range
}  // namespace sqlstate

// A status with code, message and SQLSTATE payload.
absl::Status SqlError(absl::StatusCode code, absl::string_view sqlstate, absl::string_view message);

// Returns status with its SQLSTATE payload set (replaced if present). OK stays OK.
absl::Status WithSqlState(absl::Status status, absl::string_view sqlstate);

// The SQLSTATE payload of status; "XX000" when it has none (and "00000" for OK).
std::string SqlState(const absl::Status& status);

// The SQLSTATE payload of status, or when it has none a code derived from its
// status code (DESIGN §8's table: Aborted -> 40001, Unavailable -> 08006,
// DeadlineExceeded/Cancelled -> 57014, FailedPrecondition -> 55000, NotFound ->
// 42704, InvalidArgument -> 22023, Unimplemented -> 0A000, ...).
std::string SqlStateOrDefault(const absl::Status& status);

// Where in the statement text an error was found (1-based character index),
// carried as a payload under kErrorPositionTypeUrl; the PostgreSQL front end
// sends it as the ErrorResponse 'P' field so psql can point at it.
inline constexpr absl::string_view kErrorPositionTypeUrl = "type.shale.dev/position";
absl::Status WithErrorPosition(absl::Status status, int position);
// 0 when status carries no position.
int ErrorPosition(const absl::Status& status);

}  // namespace shale
