#include "gate/pgwire/backend_messages.h"

#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"

namespace shale::gate::pgwire {
namespace {

// Authentication request codes of the 'R' message.
constexpr int32_t kAuthOk = 0;
constexpr int32_t kAuthSasl = 10;
constexpr int32_t kAuthSaslContinue = 11;
constexpr int32_t kAuthSaslFinal = 12;

void EncodeEmpty(char type, WireBuffer* out) {
  out->BeginMessage(type);
  out->EndMessage();
}

void EncodeAuthentication(int32_t code, absl::string_view data, WireBuffer* out) {
  out->BeginMessage('R');
  out->PutInt32(code);
  out->PutBytes(data);
  out->EndMessage();
}

void EncodeErrorOrNotice(char type, const ErrorFields& fields, WireBuffer* out) {
  out->BeginMessage(type);
  out->PutByte('S');
  out->PutString(fields.severity);
  out->PutByte('V');
  out->PutString(fields.severity);
  out->PutByte('C');
  out->PutString(fields.sqlstate);
  out->PutByte('M');
  out->PutString(fields.message);
  if (fields.position > 0) {
    out->PutByte('P');
    out->PutString(std::to_string(fields.position));
  }
  out->PutByte('\0');
  out->EndMessage();
}

}  // namespace

void WireBuffer::BeginMessage(char type) {
  message_start_ = data_.size();
  data_.push_back(type);
  data_.append(4, '\0');  // the length, patched by EndMessage
}

void WireBuffer::EndMessage() {
  size_t length = data_.size() - message_start_ - 1;
  StoreBig32(static_cast<uint32_t>(length), data_.data() + message_start_ + 1);
}

void WireBuffer::PutInt16(int16_t v) { AppendBig16(static_cast<uint16_t>(v), &data_); }

void WireBuffer::PutInt32(int32_t v) { AppendBig32(static_cast<uint32_t>(v), &data_); }

void WireBuffer::PutString(absl::string_view s) {
  // A NUL inside would end the string early on the client: cut it there.
  size_t nul = s.find('\0');
  if (nul != absl::string_view::npos) s = s.substr(0, nul);
  data_.append(s.data(), s.size());
  data_.push_back('\0');
}

void WireBuffer::Truncate(size_t size) {
  if (size < data_.size()) data_.resize(size);
}

void EncodeAuthenticationOk(WireBuffer* out) { EncodeAuthentication(kAuthOk, "", out); }

void EncodeAuthenticationSasl(absl::Span<const absl::string_view> mechanisms, WireBuffer* out) {
  out->BeginMessage('R');
  out->PutInt32(kAuthSasl);
  for (absl::string_view m : mechanisms) out->PutString(m);
  out->PutByte('\0');
  out->EndMessage();
}

void EncodeAuthenticationSaslContinue(absl::string_view data, WireBuffer* out) {
  EncodeAuthentication(kAuthSaslContinue, data, out);
}

void EncodeAuthenticationSaslFinal(absl::string_view data, WireBuffer* out) {
  EncodeAuthentication(kAuthSaslFinal, data, out);
}

void EncodeParameterStatus(absl::string_view name, absl::string_view value, WireBuffer* out) {
  out->BeginMessage('S');
  out->PutString(name);
  out->PutString(value);
  out->EndMessage();
}

void EncodeBackendKeyData(uint32_t pid, uint32_t secret, WireBuffer* out) {
  out->BeginMessage('K');
  out->PutInt32(static_cast<int32_t>(pid));
  out->PutInt32(static_cast<int32_t>(secret));
  out->EndMessage();
}

void EncodeNegotiateProtocolVersion(uint32_t newest_minor,
                                    absl::Span<const std::string> unrecognized, WireBuffer* out) {
  out->BeginMessage('v');
  out->PutInt32(static_cast<int32_t>(newest_minor));
  out->PutInt32(static_cast<int32_t>(unrecognized.size()));
  for (const std::string& option : unrecognized) out->PutString(option);
  out->EndMessage();
}

void EncodeReadyForQuery(char txn_status, WireBuffer* out) {
  out->BeginMessage('Z');
  out->PutByte(txn_status);
  out->EndMessage();
}

void EncodeRowDescription(absl::Span<const ColumnDescription> columns, WireBuffer* out) {
  out->BeginMessage('T');
  out->PutInt16(static_cast<int16_t>(columns.size()));
  for (const ColumnDescription& c : columns) {
    out->PutString(c.name);
    out->PutInt32(0);  // table oid
    out->PutInt16(0);  // column number
    out->PutInt32(static_cast<int32_t>(c.type_oid));
    out->PutInt16(c.type_len);
    out->PutInt32(-1);  // type modifier
    out->PutInt16(c.format);
  }
  out->EndMessage();
}

void EncodeDataRow(absl::Span<const std::optional<std::string>> values, WireBuffer* out) {
  out->BeginMessage('D');
  out->PutInt16(static_cast<int16_t>(values.size()));
  for (const std::optional<std::string>& v : values) {
    if (!v.has_value()) {
      out->PutInt32(-1);
      continue;
    }
    out->PutInt32(static_cast<int32_t>(v->size()));
    out->PutBytes(*v);
  }
  out->EndMessage();
}

void EncodeCommandComplete(absl::string_view tag, WireBuffer* out) {
  out->BeginMessage('C');
  out->PutString(tag);
  out->EndMessage();
}

void EncodeEmptyQueryResponse(WireBuffer* out) { EncodeEmpty('I', out); }

void EncodeErrorResponse(const ErrorFields& fields, WireBuffer* out) {
  EncodeErrorOrNotice('E', fields, out);
}

void EncodeNoticeResponse(const ErrorFields& fields, WireBuffer* out) {
  EncodeErrorOrNotice('N', fields, out);
}

void EncodeParseComplete(WireBuffer* out) { EncodeEmpty('1', out); }
void EncodeBindComplete(WireBuffer* out) { EncodeEmpty('2', out); }
void EncodeCloseComplete(WireBuffer* out) { EncodeEmpty('3', out); }
void EncodeNoData(WireBuffer* out) { EncodeEmpty('n', out); }
void EncodePortalSuspended(WireBuffer* out) { EncodeEmpty('s', out); }

void EncodeParameterDescription(absl::Span<const uint32_t> oids, WireBuffer* out) {
  out->BeginMessage('t');
  out->PutInt16(static_cast<int16_t>(oids.size()));
  for (uint32_t oid : oids) out->PutInt32(static_cast<int32_t>(oid));
  out->EndMessage();
}

void EncodeCopyInResponse(int num_columns, WireBuffer* out) {
  out->BeginMessage('G');
  out->PutByte(0);  // overall format: text
  out->PutInt16(static_cast<int16_t>(num_columns));
  for (int i = 0; i < num_columns; ++i) out->PutInt16(0);
  out->EndMessage();
}

void EncodeStatusError(const absl::Status& status, absl::string_view severity, WireBuffer* out) {
  std::string code = SqlStateOrDefault(status);
  ErrorFields fields;
  fields.severity = severity;
  fields.sqlstate = code;
  fields.message = status.message();
  fields.position = ErrorPosition(status);
  EncodeErrorResponse(fields, out);
}

}  // namespace shale::gate::pgwire
