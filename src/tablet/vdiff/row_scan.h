#pragma once

// ScanRowHashes: one table's rows as VDiff compares them (issue 10): inside
// an open read transaction of the engine, every row the resharding filter
// keeps (reshard::RowFilter: keyspace id of the sharding column in the key
// range; a reference table keeps all), in primary-key order (PkOrderBy, which
// TableDiffer's merge relies on), as its primary-key values and the RowHash of
// the whole row in table column order. The source's Reshard.RowHashes and the
// target's side of Reshard.VDiff both read through it, so both hash and order
// the same way. Stateless; callable from any thread (the engine is
// thread-safe; one call per transaction at a time).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tablet/engine/engine.h"
#include "tablet/reshard/row_filter.h"

namespace shale::tablet::vdiff {

// A table's columns as the transaction's snapshot has them.
struct TableLayout {
  std::string table;                 // as stored in sqlite_schema
  std::vector<std::string> columns;  // table column order
  std::vector<int> pk;               // indexes into columns, in primary-key order
};

// NotFound naming the table when the snapshot has no such table;
// InvalidArgument for a table without a primary key.
absl::StatusOr<TableLayout> ReadTableLayout(engine::Engine& engine, engine::TxnId txn,
                                            const std::string& table);

// Calls on_row(pk values, RowHash) for every kept row, in primary-key order;
// an error from on_row stops the scan and is returned. Errors: the layout's
// (above), the filter's (a table without its sharding column: InvalidArgument;
// a sharding value with no keyspace id, e.g. NULL: FailedPrecondition), the
// engine's.
absl::Status ScanRowHashes(
    engine::Engine& engine, engine::TxnId txn, const reshard::RowFilter& filter,
    absl::FunctionRef<absl::Status(absl::Span<const engine::Value> pk, uint64_t hash)> on_row);

}  // namespace shale::tablet::vdiff
