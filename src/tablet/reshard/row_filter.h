#pragma once

// RowFilter: which rows of one table a resharding filter keeps (issue 10,
// proto/reshard_data.proto TableFilter): those whose keyspace id (the `hash`
// vindex of the sharding column, read as the keyspace's column type:
// key::KeyspaceIdOfValue) is in the key range. A reference table (no column)
// keeps every row. Used by CopyRows on the source (rows) and by the target's
// streams (change events).
//
// A value type built once per table; thread-compatible.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "change_data.pb.h"
#include "key/key_range.h"
#include "reshard_data.pb.h"
#include "tablet_data.pb.h"
#include "topodata.pb.h"

namespace shale::tablet::reshard {

// What to do with a change event.
enum class EventVerdict {
  kKeep,
  kDrop,
  // An UPDATE whose event does not carry the sharding column (gateways
  // refuse to change it): the row belongs here exactly when this shard has
  // it, so apply it by primary key and let a missing row mean "not ours".
  kKeepIfPresent,
};

class RowFilter {
 public:
  RowFilter(TableFilter filter, const topodata::KeyRange& range);

  const TableFilter& filter() const { return filter_; }
  bool reference() const { return filter_.column().empty(); }

  // The index of the sharding column in `columns` (case-insensitive), -1 for
  // a reference table. InvalidArgument when the table has no such column.
  absl::StatusOr<int> ColumnIndex(const std::vector<std::string>& columns) const;

  // Whether a row (values in the order of the columns ColumnIndex was given)
  // is kept. column_index from ColumnIndex. FailedPrecondition naming the
  // table when the sharding value has no keyspace id (NULL, wrong kind).
  absl::StatusOr<bool> KeepRow(int column_index,
                               const google::protobuf::RepeatedPtrField<Value>& values) const;

  // The verdict for a change event of this table: the sharding column is
  // looked for in pk, then after (INSERT, UPDATE), then before (DELETE).
  absl::StatusOr<EventVerdict> ForEvent(const ChangeEvent& event) const;

  // Whether a sharding value is in range (errors as KeepRow).
  absl::StatusOr<bool> KeepValue(const Value& value) const;

 private:
  TableFilter filter_;
  key::KeyRange range_;
};

// The filter of `table` from the target keyspace's records: REFERENCE in the
// VSchema: every row; else the table's first column vindex; else the
// keyspace's sharding column; the column type is the keyspace's. NotFound
// naming the table when it has no sharding column anywhere.
absl::StatusOr<TableFilter> FilterForTable(absl::string_view table,
                                           const topodata::VSchema& vschema,
                                           const topodata::Keyspace& keyspace);

}  // namespace shale::tablet::reshard
