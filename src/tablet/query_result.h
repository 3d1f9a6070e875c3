#pragma once

// Conversions between the engine's values and results and their protos
// (tablet_data.proto), used by the query service and its clients.

#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "tablet/engine/value.h"
#include "tablet_data.pb.h"

namespace shale::tablet {

// InvalidArgument for a Value with no kind set.
absl::StatusOr<engine::Value> FromProtoValue(const Value& v);
absl::StatusOr<std::vector<engine::Value>> FromProtoValues(
    const google::protobuf::RepeatedPtrField<Value>& values);

Value ToProtoValue(const engine::Value& v);
void AddFields(absl::Span<const engine::Column> columns, QueryResult* out);
void AddRow(absl::Span<const engine::Value> row, QueryResult* out);
QueryResult ToProtoResult(const engine::ResultSet& rs);

}  // namespace shale::tablet
