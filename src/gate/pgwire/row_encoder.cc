#include "gate/pgwire/row_encoder.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_messages.h"
#include "gate/pgwire/params.h"
#include "gate/pgwire/types.h"

namespace shale::gate::pgwire {

absl::StatusOr<std::vector<ColumnDescription>> DescribeResult(
    const tablet::QueryResult& data, absl::Span<const int16_t> result_formats) {
  size_t n = static_cast<size_t>(data.fields_size());
  if (result_formats.size() > 1 && result_formats.size() != n) {
    return ProtocolError(absl::StrFormat("bind message has %d result formats but query has %d columns",
                                         result_formats.size(), n));
  }
  std::vector<ColumnDescription> columns(n);
  for (size_t i = 0; i < n; ++i) {
    ColumnDescription& c = columns[i];
    c.name = data.fields(static_cast<int>(i)).name();
    c.type_oid = ColumnOid(data, static_cast<int>(i));
    c.type_len = TypeLength(c.type_oid);
    c.format = FormatFor(result_formats, i);
    if (c.format != 0 && c.format != 1) {
      return ProtocolError(absl::StrCat("unsupported format code: ", c.format));
    }
  }
  return columns;
}

std::vector<ColumnDescription> DescribeFields(absl::Span<const tablet::Field> fields) {
  std::vector<ColumnDescription> columns(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    columns[i].name = fields[i].name();
    uint32_t declared = OidForDeclType(fields[i].decl_type());
    columns[i].type_oid = declared == oid::kUnspecified ? oid::kText : declared;
    columns[i].type_len = TypeLength(columns[i].type_oid);
  }
  return columns;
}

void UseDeclaredTypes(absl::Span<const tablet::Field> declared,
                      std::vector<ColumnDescription>* columns) {
  if (declared.size() != columns->size()) return;
  std::vector<ColumnDescription> announced = DescribeFields(declared);
  for (size_t i = 0; i < columns->size(); ++i) {
    (*columns)[i].type_oid = announced[i].type_oid;
    (*columns)[i].type_len = announced[i].type_len;
  }
}

absl::Status EncodeResultRow(const tablet::Row& row, absl::Span<const ColumnDescription> columns,
                             WireBuffer* out) {
  out->BeginMessage('D');
  out->PutInt16(static_cast<int16_t>(columns.size()));
  std::string* raw = out->raw();
  for (size_t i = 0; i < columns.size(); ++i) {
    const tablet::Value* v =
        static_cast<int>(i) < row.values_size() ? &row.values(static_cast<int>(i)) : nullptr;
    if (v == nullptr || v->kind_case() == tablet::Value::kNull ||
        v->kind_case() == tablet::Value::KIND_NOT_SET) {
      out->PutInt32(-1);
      continue;
    }
    size_t length_at = raw->size();
    out->PutInt32(0);  // patched below
    if (columns[i].format == 1) {
      RETURN_IF_ERROR(AppendBinaryValue(*v, columns[i].type_oid, raw));
    } else {
      AppendTextValue(*v, columns[i].type_oid, raw);
    }
    StoreBig32(static_cast<uint32_t>(raw->size() - length_at - 4), raw->data() + length_at);
  }
  out->EndMessage();
  return absl::OkStatus();
}

}  // namespace shale::gate::pgwire
