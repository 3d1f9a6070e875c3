#include "tablet/reshard/row_filter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "key/vindex.h"

namespace shale::tablet::reshard {
namespace {

const Value* FindColumn(const google::protobuf::RepeatedPtrField<ColumnValue>& cols,
                        absl::string_view name) {
  for (const ColumnValue& c : cols) {
    if (absl::EqualsIgnoreCase(c.name(), name)) return &c.value();
  }
  return nullptr;
}

}  // namespace

RowFilter::RowFilter(TableFilter filter, const topodata::KeyRange& range)
    : filter_(std::move(filter)), range_(key::KeyRange::FromProto(range)) {}

absl::StatusOr<int> RowFilter::ColumnIndex(const std::vector<std::string>& columns) const {
  if (reference()) return -1;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (absl::EqualsIgnoreCase(columns[i], filter_.column())) return static_cast<int>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat("table ", filter_.table(),
                                                 " has no sharding column ", filter_.column()));
}

absl::StatusOr<bool> RowFilter::KeepValue(const Value& value) const {
  absl::StatusOr<key::KeyspaceId> id = key::KeyspaceIdOfValue(value, filter_.column_type());
  if (!id.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("table ", filter_.table(), ": sharding column ",
                                                      filter_.column(), ": ",
                                                      id.status().message()));
  }
  return range_.Contains(*id);
}

absl::StatusOr<bool> RowFilter::KeepRow(
    int column_index, const google::protobuf::RepeatedPtrField<Value>& values) const {
  if (column_index < 0) return true;
  if (column_index >= values.size()) {
    return absl::InvalidArgumentError(absl::StrCat("table ", filter_.table(), ": a row of ",
                                                   values.size(), " values has no column ",
                                                   column_index + 1));
  }
  return KeepValue(values[column_index]);
}

absl::StatusOr<EventVerdict> RowFilter::ForEvent(const ChangeEvent& event) const {
  if (reference()) return EventVerdict::kKeep;
  const Value* v = FindColumn(event.pk(), filter_.column());
  if (v == nullptr && event.op() != DELETE) v = FindColumn(event.after(), filter_.column());
  if (v == nullptr && event.op() != INSERT) v = FindColumn(event.before(), filter_.column());
  if (v == nullptr) {
    if (event.op() == UPDATE) return EventVerdict::kKeepIfPresent;
    return absl::InvalidArgumentError(
        absl::StrCat("a ", ChangeOp_Name(event.op()), " event of table ", event.table(),
                     " has no value for its sharding column ", filter_.column()));
  }
  absl::StatusOr<bool> keep = KeepValue(*v);
  if (!keep.ok()) return keep.status();
  return *keep ? EventVerdict::kKeep : EventVerdict::kDrop;
}

absl::StatusOr<TableFilter> FilterForTable(absl::string_view table,
                                           const topodata::VSchema& vschema,
                                           const topodata::Keyspace& keyspace) {
  TableFilter f;
  f.set_table(std::string(table));
  f.set_column_type(keyspace.sharding_column_type());
  const topodata::VSchema::Table* t = nullptr;
  auto it = vschema.tables().find(std::string(table));
  if (it != vschema.tables().end()) {
    t = &it->second;
  } else {
    for (const auto& [name, entry] : vschema.tables()) {
      if (absl::EqualsIgnoreCase(name, table)) t = &entry;
    }
  }
  if (t != nullptr) {
    if (t->type() == topodata::VSchema::REFERENCE) return f;
    if (t->column_vindexes_size() > 0) {
      f.set_column(t->column_vindexes(0).column());
      return f;
    }
  }
  if (keyspace.sharding_column_name().empty()) {
    return absl::NotFoundError(absl::StrCat(
        "table ", table, " has no sharding column: the keyspace has none and the VSchema does "
        "not list the table"));
  }
  f.set_column(keyspace.sharding_column_name());
  return f;
}

}  // namespace shale::tablet::reshard
