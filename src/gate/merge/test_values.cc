#include "gate/merge/test_values.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace shale::gate::merge {

tablet::Value Null() {
  tablet::Value v;
  v.set_null(true);
  return v;
}

tablet::Value Int(int64_t i) {
  tablet::Value v;
  v.set_int64(i);
  return v;
}

tablet::Value Real(double r) {
  tablet::Value v;
  v.set_float64(r);
  return v;
}

tablet::Value Text(std::string s) {
  tablet::Value v;
  v.set_text(std::move(s));
  return v;
}

tablet::Value Blob(std::string b) {
  tablet::Value v;
  v.set_blob(std::move(b));
  return v;
}

tablet::QueryResult MakeResult(const std::vector<std::string>& names, const ValueRows& rows) {
  tablet::QueryResult result;
  for (const std::string& name : names) result.add_fields()->set_name(name);
  for (const auto& values : rows) {
    tablet::Row* row = result.add_rows();
    for (const tablet::Value& value : values) *row->add_values() = value;
  }
  return result;
}

std::string ValueString(const tablet::Value& value) {
  switch (value.kind_case()) {
    case tablet::Value::kInt64:
      return absl::StrCat("i:", value.int64());
    case tablet::Value::kFloat64:
      return absl::StrFormat("r:%.17g", value.float64());
    case tablet::Value::kText:
      return absl::StrCat("t:'", value.text(), "'");
    case tablet::Value::kBlob:
      return absl::StrCat("b:x'", absl::BytesToHexString(value.blob()), "'");
    case tablet::Value::kNull:
    case tablet::Value::KIND_NOT_SET:
      break;
  }
  return "NULL";
}

std::string RowString(const tablet::Row& row) {
  std::vector<std::string> parts;
  for (const tablet::Value& value : row.values()) parts.push_back(ValueString(value));
  return absl::StrCat("(", absl::StrJoin(parts, ", "), ")");
}

std::vector<std::string> RowStrings(const tablet::QueryResult& result) {
  std::vector<std::string> rows;
  for (const tablet::Row& row : result.rows()) rows.push_back(RowString(row));
  return rows;
}

std::vector<std::string> RowStrings(const ValueRows& rows) {
  return RowStrings(MakeResult({}, rows));
}

}  // namespace shale::gate::merge
