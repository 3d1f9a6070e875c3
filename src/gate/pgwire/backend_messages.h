#pragma once

// Encoding of what the server sends (protocol 3.0) into one growing output
// buffer per connection, so that a whole response (many DataRows) is built
// without per-message allocations and written with one send.
//
// WireBuffer is owned by its connection and used from that connection's
// thread only. The encoders are free functions appending one message each.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace shale::gate::pgwire {

// An output buffer of backend messages. A message is built between
// BeginMessage and EndMessage, which patches in its length.
class WireBuffer {
 public:
  void BeginMessage(char type);
  void EndMessage();

  void PutByte(char c) { data_.push_back(c); }
  void PutInt16(int16_t v);
  void PutInt32(int32_t v);
  void PutBytes(absl::string_view bytes) { data_.append(bytes.data(), bytes.size()); }
  // The bytes and a terminating NUL (the wire's String type).
  void PutString(absl::string_view s);
  // The raw buffer, for value encoders that append in place.
  std::string* raw() { return &data_; }

  const std::string& data() const { return data_; }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  // Drops everything after `size` (an earlier size()), e.g. a partial result.
  void Truncate(size_t size);
  void Clear() { data_.clear(); }

 private:
  std::string data_;
  size_t message_start_ = 0;  // where the open message's type byte is
};

// A RowDescription column.
struct ColumnDescription {
  std::string name;
  uint32_t type_oid = 0;
  int16_t type_len = -1;
  int16_t format = 0;  // 0 text, 1 binary
};

// ErrorResponse / NoticeResponse fields.
struct ErrorFields {
  absl::string_view severity;  // "ERROR", "FATAL", "NOTICE", ...
  absl::string_view sqlstate;
  absl::string_view message;
  int position = 0;  // 1-based character in the query, 0 for none
};

void EncodeAuthenticationOk(WireBuffer* out);
void EncodeAuthenticationSasl(absl::Span<const absl::string_view> mechanisms, WireBuffer* out);
void EncodeAuthenticationSaslContinue(absl::string_view data, WireBuffer* out);
void EncodeAuthenticationSaslFinal(absl::string_view data, WireBuffer* out);
void EncodeParameterStatus(absl::string_view name, absl::string_view value, WireBuffer* out);
void EncodeBackendKeyData(uint32_t pid, uint32_t secret, WireBuffer* out);
void EncodeNegotiateProtocolVersion(uint32_t newest_minor,
                                    absl::Span<const std::string> unrecognized, WireBuffer* out);
void EncodeReadyForQuery(char txn_status, WireBuffer* out);
void EncodeRowDescription(absl::Span<const ColumnDescription> columns, WireBuffer* out);
// A DataRow of already formatted values (nullopt: NULL). The row encoder
// (row_encoder.h) writes DataRows straight from result values instead.
void EncodeDataRow(absl::Span<const std::optional<std::string>> values, WireBuffer* out);
void EncodeCommandComplete(absl::string_view tag, WireBuffer* out);
void EncodeEmptyQueryResponse(WireBuffer* out);
void EncodeErrorResponse(const ErrorFields& fields, WireBuffer* out);
void EncodeNoticeResponse(const ErrorFields& fields, WireBuffer* out);
void EncodeParseComplete(WireBuffer* out);
void EncodeBindComplete(WireBuffer* out);
void EncodeCloseComplete(WireBuffer* out);
void EncodeNoData(WireBuffer* out);
void EncodeParameterDescription(absl::Span<const uint32_t> oids, WireBuffer* out);
void EncodePortalSuspended(WireBuffer* out);
void EncodeCopyInResponse(int num_columns, WireBuffer* out);  // text format

// ErrorResponse from a status: SqlStateOrDefault, ErrorPosition and message.
void EncodeStatusError(const absl::Status& status, absl::string_view severity, WireBuffer* out);

}  // namespace shale::gate::pgwire
