#pragma once

// Writing a source's rows and change events into this shard (issue 10), by
// primary key, inside a write transaction the caller owns (a batch commits
// together with its `_shale_reshard` row). Stateless functions; txn is used
// by the calling thread only.
//
//  - a copied row, an INSERT: INSERT OR REPLACE (a row applied before a
//    restart, or one with the same key, is overwritten);
//  - an UPDATE: UPDATE ... SET the changed columns WHERE the old primary key
//    (a missing row changes nothing: the kKeepIfPresent rule);
//  - a DELETE: DELETE ... WHERE the primary key.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "change_data.pb.h"
#include "google/protobuf/repeated_field.h"
#include "tablet/engine/write_txn.h"
#include "tablet_data.pb.h"

namespace shale::tablet::reshard {

// Inserts (or replaces) one row given as values in the order of columns.
absl::Status InsertRow(engine::WriteTxn& txn, absl::string_view table,
                       const std::vector<std::string>& columns,
                       const google::protobuf::RepeatedPtrField<Value>& values);

// Applies one INSERT, UPDATE or DELETE event; returns the rows it changed.
// InvalidArgument for another op or an event without a primary key.
absl::StatusOr<int64_t> ApplyEvent(engine::WriteTxn& txn, const ChangeEvent& event);

// Runs a table's CREATE TABLE and CREATE INDEX statements (as CopyRows
// sends them) unless the table exists; returns whether it created it.
absl::StatusOr<bool> EnsureTable(engine::WriteTxn& txn, absl::string_view table,
                                 const google::protobuf::RepeatedPtrField<std::string>& schema);

}  // namespace shale::tablet::reshard
