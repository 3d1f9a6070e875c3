#pragma once

// Internal to topo/sqlite: opening a topology file and checking that it is one.
//
// A Shale topology file is an SQLite database whose header application_id is
// kApplicationId and whose `meta` table names the schema version (the full
// schema is in README.md). OpenTopologyDb creates that schema in an empty file
// and refuses (without writing anything) a file that is something else.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "topo/sqlite/sqlite_db.h"

namespace shale::topo::sqlite_internal {

inline constexpr int32_t kApplicationId = 0x5348414c;  // "SHAL"
inline constexpr int64_t kSchemaVersion = 1;

// Values of changes.kind.
inline constexpr int kChangeWritten = 1;
inline constexpr int kChangeDeleted = 2;

enum class DbRole {
  kMain,    // reads and writes; creates the schema in an empty file
  kPoller,  // the watch poller's connection: query_only, never creates
};

// Opens path as a topology file.
//   NotFound            the file is missing and create_if_missing is false
//   Unavailable         it cannot be opened or created (missing directory,
//                       permissions, stayed locked past busy_timeout)
//   FailedPrecondition  it is not a Shale topology file (another database,
//                       garbage, a newer schema); the file is left untouched
absl::StatusOr<std::unique_ptr<SqliteDb>> OpenTopologyDb(const std::string& path,
                                                         bool create_if_missing, DbRole role,
                                                         absl::Duration busy_timeout);

}  // namespace shale::topo::sqlite_internal
