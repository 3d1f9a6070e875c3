#include "tablet/query_result.h"

namespace shale::tablet {

absl::StatusOr<engine::Value> FromProtoValue(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNull:
      return engine::Value::Null();
    case Value::kInt64:
      return engine::Value::Int64(v.int64());
    case Value::kFloat64:
      return engine::Value::Float64(v.float64());
    case Value::kText:
      return engine::Value::Text(v.text());
    case Value::kBlob:
      return engine::Value::Blob(v.blob());
    case Value::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("bind value has no kind (null, int64, float64, text or blob)");
}

absl::StatusOr<std::vector<engine::Value>> FromProtoValues(
    const google::protobuf::RepeatedPtrField<Value>& values) {
  std::vector<engine::Value> out;
  out.reserve(values.size());
  for (const Value& v : values) {
    absl::StatusOr<engine::Value> e = FromProtoValue(v);
    if (!e.ok()) return e.status();
    out.push_back(*std::move(e));
  }
  return out;
}

Value ToProtoValue(const engine::Value& v) {
  Value p;
  switch (v.type()) {
    case engine::Value::Type::kNull:
      p.set_null(true);
      break;
    case engine::Value::Type::kInt64:
      p.set_int64(v.int64());
      break;
    case engine::Value::Type::kFloat64:
      p.set_float64(v.float64());
      break;
    case engine::Value::Type::kText:
      p.set_text(v.text());
      break;
    case engine::Value::Type::kBlob:
      p.set_blob(v.blob());
      break;
  }
  return p;
}

void AddFields(absl::Span<const engine::Column> columns, QueryResult* out) {
  for (const engine::Column& c : columns) {
    Field* f = out->add_fields();
    f->set_name(c.name);
    f->set_decl_type(c.decl_type);
  }
}

void AddRow(absl::Span<const engine::Value> row, QueryResult* out) {
  Row* r = out->add_rows();
  for (const engine::Value& v : row) *r->add_values() = ToProtoValue(v);
}

QueryResult ToProtoResult(const engine::ResultSet& rs) {
  QueryResult out;
  AddFields(rs.columns, &out);
  for (const engine::Row& row : rs.rows) AddRow(row, &out);
  out.set_rows_affected(rs.rows_affected);
  out.set_last_insert_id(rs.last_insert_rowid);
  return out;
}

}  // namespace shale::tablet
