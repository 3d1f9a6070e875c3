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
#include "base/sqlstate.h"

namespace shale::tablet::engine {

// The SQLSTATE helpers live in base/sqlstate.h (the gateway uses them too);
// these names keep the engine's callers short.
using ::shale::kSqlStateTypeUrl;
using ::shale::SqlError;
using ::shale::SqlState;
using ::shale::WithSqlState;
namespace sqlstate = ::shale::sqlstate;

// Maps an (extended) SQLite result code and its message to a status. The
// message is kept, folded onto one line. Pure: the table in README.md.
absl::Status SqliteCodeToStatus(int rc, absl::string_view message);

// The status for rc as returned by a call on db: uses sqlite3_errmsg(db) when
// db is given and rc matches its last error, else sqlite3_errstr(rc).
absl::Status SqliteError(int rc, sqlite3* db);

}  // namespace shale::tablet::engine
