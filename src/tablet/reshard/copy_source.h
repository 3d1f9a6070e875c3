#pragma once

// The source side of Reshard.CopyRows (issue 10): one consistent snapshot of
// the requested tables, filtered by key range. Everything is read in one
// SQLite read transaction (a reader connection: WAL, so commits go on), and
// the first response carries the log position of that snapshot: the newest
// committed entry {seq, term, 0}, read in the same transaction (data and log
// rows commit together, so they agree). Then, per table, in request order: a
// response with the schema (CREATE TABLE and CREATE INDEX statements from
// sqlite_schema) and the columns, responses of up to batch_rows kept rows,
// and table_done on the last one.
//
// Stateless functions; each call runs on the caller's thread (the gRPC
// handler's). The read transaction stays open while send blocks on a slow
// client; it never holds up commits (only checkpoints past its snapshot).

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "change_data.pb.h"
#include "reshard_data.pb.h"
#include "tablet/engine/engine.h"

namespace shale::tablet::reshard {

// The newest committed log entry seen by the read transaction txn, as a
// change position {seq, term, 0}; {0, 0, 0} for an empty log. (Also what
// RowHashes reports with its snapshot.)
absl::StatusOr<ChangePosition> SnapshotPosition(engine::Engine& engine, engine::TxnId txn);

// The CREATE TABLE statement of table, then its CREATE INDEX statements, as
// read in txn. NotFound naming the table when it does not exist.
absl::StatusOr<std::vector<std::string>> TableSchema(engine::Engine& engine, engine::TxnId txn,
                                                     absl::string_view table);

// Checks a CopyRows (or RowHashes) table name: InvalidArgument for an empty
// name or one of Shale's own (`_shale_`) or SQLite's (`sqlite_`) tables.
absl::Status CheckCopyableTable(absl::string_view table);

// Runs a CopyRows call. send writes one response and returns false when the
// client went away (the call then ends with Cancelled). Errors:
// InvalidArgument for an empty table list, a table named twice, a
// negative batch_rows, a reserved table, a sharding column the table does
// not have; NotFound for an unknown table; FailedPrecondition for a row
// whose sharding value has no keyspace id (NULL); the engine's errors.
absl::Status ServeCopyRows(engine::Engine& engine, const CopyRowsRequest& request,
                           const std::function<bool(const CopyRowsResponse&)>& send);

}  // namespace shale::tablet::reshard
