#pragma once

// Internal to topo/sqlite: every SQL statement on the `nodes`, `changes` and
// `meta` tables, as small functions over a SqliteDb. Writers call them inside
// a BEGIN IMMEDIATE transaction (SqliteStore::Write) so that a node row and
// its change row commit together; readers inside one read transaction when
// several results must come from the same snapshot.
//
// Not thread-safe: they use the caller's connection, which the caller owns.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "topo/conn.h"
#include "topo/sqlite/sqlite_db.h"

namespace shale::topo::sqlite_internal {

// How the change log is trimmed (see README.md).
struct TrimPolicy {
  int64_t keep = 10000;  // change rows kept
  int64_t every = 256;   // trim when the new seq is a multiple of this
};

struct NodeRow {
  std::string value;
  Version version = 0;
  std::optional<std::string> lease_owner;  // set on lock nodes only
  int64_t lease_expires_ms = 0;            // wall-clock ms since the epoch
};

// The row at path, or nullopt.
absl::StatusOr<std::optional<NodeRow>> ReadNode(SqliteDb& db, absl::string_view path);

// Writes value at path (creating or replacing it, keeping any lease) and
// appends its change row; returns the new version (= the change seq).
absl::StatusOr<Version> WriteNode(SqliteDb& db, absl::string_view path, absl::string_view value,
                                  const TrimPolicy& trim);
// Creates a lock node with a lease; path must hold no value.
absl::StatusOr<Version> WriteLeasedNode(SqliteDb& db, absl::string_view path,
                                        absl::string_view value, absl::string_view owner,
                                        int64_t expires_ms, const TrimPolicy& trim);
// Deletes path (which must exist) and appends its change row.
absl::Status EraseNode(SqliteDb& db, absl::string_view path, const TrimPolicy& trim);
// Extends the lease of path if owner still holds it; false if not.
absl::StatusOr<bool> RenewLease(SqliteDb& db, absl::string_view path, absl::string_view owner,
                                int64_t expires_ms);

// Calls fn for every node strictly below prefix (which ends with '/'), in
// path order. fn's string_views are valid during the call only.
absl::Status ScanBelow(SqliteDb& db, absl::string_view prefix,
                       absl::FunctionRef<void(absl::string_view path, absl::string_view value,
                                              Version version)>
                           fn);
// Like ScanBelow, only the paths.
absl::Status ScanPathsBelow(SqliteDb& db, absl::string_view prefix,
                            absl::FunctionRef<void(absl::string_view path)> fn);

// The seq of the last change ever committed (0 for a fresh file).
absl::StatusOr<int64_t> HeadSeq(SqliteDb& db);
// Change rows up to this seq were trimmed away.
absl::StatusOr<int64_t> TrimmedThrough(SqliteDb& db);

struct Change {
  int64_t seq = 0;
  absl::string_view path;
  int kind = 0;  // kChangeWritten or kChangeDeleted
  absl::string_view value;
};
// Calls fn for every change with seq > after, in seq order.
absl::Status ScanChanges(SqliteDb& db, int64_t after, absl::FunctionRef<void(const Change&)> fn);

// PRAGMA data_version: changes whenever another connection commits.
absl::StatusOr<int64_t> DataVersion(SqliteDb& db);

}  // namespace shale::topo::sqlite_internal
