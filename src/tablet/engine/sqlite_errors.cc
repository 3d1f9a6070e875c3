#include "tablet/engine/sqlite_errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

namespace shale::tablet::engine {
namespace {

using absl::StatusCode;

struct Mapping {
  StatusCode code;
  absl::string_view sqlstate;
};

// Extended codes of SQLITE_CONSTRAINT; when only the primary code is known,
// SQLite's message ("UNIQUE constraint failed: t.k") still names the kind.
Mapping ConstraintMapping(int rc, absl::string_view message) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return {StatusCode::kAlreadyExists, sqlstate::kUniqueViolation};
    case SQLITE_CONSTRAINT_NOTNULL:
      return {StatusCode::kInvalidArgument, sqlstate::kNotNullViolation};
    case SQLITE_CONSTRAINT_CHECK:
      return {StatusCode::kInvalidArgument, sqlstate::kCheckViolation};
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return {StatusCode::kInvalidArgument, sqlstate::kForeignKeyViolation};
    case SQLITE_CONSTRAINT_DATATYPE:
      return {StatusCode::kInvalidArgument, sqlstate::kDatatypeMismatch};
    default:
      break;
  }
  if (absl::StartsWith(message, "UNIQUE constraint failed")) {
    return {StatusCode::kAlreadyExists, sqlstate::kUniqueViolation};
  }
  if (absl::StartsWith(message, "NOT NULL constraint failed")) {
    return {StatusCode::kInvalidArgument, sqlstate::kNotNullViolation};
  }
  if (absl::StartsWith(message, "CHECK constraint failed")) {
    return {StatusCode::kInvalidArgument, sqlstate::kCheckViolation};
  }
  if (absl::StartsWith(message, "FOREIGN KEY constraint failed")) {
    return {StatusCode::kInvalidArgument, sqlstate::kForeignKeyViolation};
  }
  return {StatusCode::kInvalidArgument, sqlstate::kIntegrityViolation};
}

// SQLITE_ERROR is SQLite's generic code; the message tells the cases apart.
Mapping GenericErrorMapping(int rc, absl::string_view message) {
  if (rc == SQLITE_ERROR_SNAPSHOT) return {StatusCode::kAborted, sqlstate::kSerializationFailure};
  if (absl::StrContains(message, "syntax error") ||
      absl::StrContains(message, "incomplete input") ||
      absl::StrContains(message, "unrecognized token")) {
    return {StatusCode::kInvalidArgument, sqlstate::kSyntaxError};
  }
  if (absl::StartsWith(message, "no such table")) {
    return {StatusCode::kNotFound, sqlstate::kUndefinedTable};
  }
  if (absl::StartsWith(message, "no such column")) {
    return {StatusCode::kInvalidArgument, sqlstate::kUndefinedColumn};
  }
  if (absl::StartsWith(message, "no such function") ||
      absl::StartsWith(message, "wrong number of arguments to function")) {
    return {StatusCode::kInvalidArgument, sqlstate::kUndefinedFunction};
  }
  if (absl::StrContains(message, "already exists") ||
      absl::StrContains(message, "there is already another table")) {
    return {StatusCode::kAlreadyExists, sqlstate::kDuplicateTable};
  }
  // Whatever else SQLite rejects with its generic code is about the statement.
  return {StatusCode::kInvalidArgument, sqlstate::kSyntaxOrAccess};
}

Mapping MapCode(int rc, absl::string_view message) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return ConstraintMapping(rc, message);
    case SQLITE_ERROR:
      return GenericErrorMapping(rc, message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_SCHEMA:
      return {StatusCode::kAborted, sqlstate::kSerializationFailure};
    case SQLITE_READONLY:
      return {StatusCode::kFailedPrecondition, sqlstate::kReadOnlyTransaction};
    case SQLITE_FULL:
      return {StatusCode::kResourceExhausted, sqlstate::kDiskFull};
    case SQLITE_NOMEM:
      return {StatusCode::kResourceExhausted, sqlstate::kOutOfMemory};
    case SQLITE_TOOBIG:
      return {StatusCode::kInvalidArgument, sqlstate::kProgramLimitExceeded};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return {StatusCode::kDataLoss, sqlstate::kDataCorrupted};
    case SQLITE_AUTH:
      return {StatusCode::kPermissionDenied, sqlstate::kInsufficientPrivilege};
    case SQLITE_INTERRUPT:
      return {StatusCode::kCancelled, sqlstate::kQueryCanceled};
    case SQLITE_MISMATCH:
      return {StatusCode::kInvalidArgument, sqlstate::kDatatypeMismatch};
    case SQLITE_RANGE:
      return {StatusCode::kInvalidArgument, sqlstate::kProtocolViolation};
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return {StatusCode::kInternal, sqlstate::kIoError};
    default:
      return {StatusCode::kInternal, sqlstate::kInternalError};
  }
}

}  // namespace

absl::Status SqliteCodeToStatus(int rc, absl::string_view message) {
  Mapping m = MapCode(rc, message);
  std::string one_line = absl::StrReplaceAll(message, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
  return SqlError(m.code, m.sqlstate, one_line);
}

absl::Status SqliteError(int rc, sqlite3* db) {
  if (db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff)) {
    return SqliteCodeToStatus(sqlite3_extended_errcode(db), sqlite3_errmsg(db));
  }
  return SqliteCodeToStatus(rc, sqlite3_errstr(rc));
}

}  // namespace shale::tablet::engine
