#pragma once

// Error mapping for the tablet engine: SQLite result codes -> absl::Status
// carrying a PostgreSQL SQLSTATE, so the PostgreSQL front end can hand clients
// the code they expect (and retry 40001) without parsing messages.
//
// The SQLSTATE travels as a Status payload under kSqlStateTypeUrl whose value
// is the 5-character code. The full table is in README.md. Stateless, safe
// from any thread.

#include <sqlite3.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shale::tablet::engine {

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
}  // namespace sqlstate

// A status with code, message and SQLSTATE payload.
absl::Status SqlError(absl::StatusCode code, absl::string_view sqlstate, absl::string_view message);

// Returns status with its SQLSTATE payload set (replaced if present). OK stays OK.
absl::Status WithSqlState(absl::Status status, absl::string_view sqlstate);

// The SQLSTATE payload of status; "XX000" when it has none (and "00000" for OK).
std::string SqlState(const absl::Status& status);

// Maps an (extended) SQLite result code and its message to a status. The
// message is kept, folded onto one line. Pure: the table in README.md.
absl::Status SqliteCodeToStatus(int rc, absl::string_view message);

// The status for rc as returned by a call on db: uses sqlite3_errmsg(db) when
// db is given and rc matches its last error, else sqlite3_errstr(rc).
absl::Status SqliteError(int rc, sqlite3* db);

}  // namespace shale::tablet::engine
