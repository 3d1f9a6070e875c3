#include "gate/pgwire/frontend_messages.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/pgwire/byte_order.h"

namespace shale::gate::pgwire {
namespace {

// Reads fields off a message body front to back; every read checks that the
// bytes are there.
class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}

  absl::StatusOr<absl::string_view> String(absl::string_view what) {
    size_t nul = data_.find('\0');
    if (nul == absl::string_view::npos) {
      return ProtocolError(absl::StrCat("invalid message format: ", what, " has no terminator"));
    }
    absl::string_view s = data_.substr(0, nul);
    data_.remove_prefix(nul + 1);
    return s;
  }
  absl::StatusOr<absl::string_view> Bytes(size_t n, absl::string_view what) {
    if (n > data_.size()) {
      return ProtocolError(absl::StrCat("invalid message format: ", what, " overruns the message"));
    }
    absl::string_view s = data_.substr(0, n);
    data_.remove_prefix(n);
    return s;
  }
  absl::StatusOr<int16_t> Int16(absl::string_view what) {
    ASSIGN_OR_RETURN(absl::string_view b, Bytes(2, what));
    return static_cast<int16_t>(LoadBig16(b.data()));
  }
  absl::StatusOr<int32_t> Int32(absl::string_view what) {
    ASSIGN_OR_RETURN(absl::string_view b, Bytes(4, what));
    return static_cast<int32_t>(LoadBig32(b.data()));
  }
  absl::StatusOr<char> Byte(absl::string_view what) {
    ASSIGN_OR_RETURN(absl::string_view b, Bytes(1, what));
    return b[0];
  }
  // A count (Int16) that must be non-negative and whose items, each at least
  // min_item_size bytes, fit in what is left.
  absl::StatusOr<int> Count(size_t min_item_size, absl::string_view what) {
    ASSIGN_OR_RETURN(int16_t n, Int16(what));
    if (n < 0 || static_cast<size_t>(n) * min_item_size > data_.size()) {
      return ProtocolError(absl::StrCat("invalid message format: bad ", what, " ", n));
    }
    return n;
  }
  absl::Status Finish() {
    if (!data_.empty()) {
      return ProtocolError(absl::StrFormat("invalid message format: %d trailing bytes",
                                           data_.size()));
    }
    return absl::OkStatus();
  }
  absl::string_view rest() const { return data_; }

 private:
  absl::string_view data_;
};

absl::StatusOr<std::vector<int16_t>> FormatCodes(Reader& r, absl::string_view what) {
  ASSIGN_OR_RETURN(int n, r.Count(2, what));
  std::vector<int16_t> codes(n);
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(codes[i], r.Int16(what));
  }
  return codes;
}

absl::StatusOr<StartupPacket> DecodeStartupParams(uint32_t protocol, absl::string_view rest) {
  StartupPacket packet;
  packet.protocol = protocol;
  Reader r(rest);
  while (true) {
    ASSIGN_OR_RETURN(absl::string_view name, r.String("startup parameter name"));
    if (name.empty()) break;
    ASSIGN_OR_RETURN(absl::string_view value, r.String("startup parameter value"));
    packet.params.emplace_back(std::string(name), std::string(value));
  }
  RETURN_IF_ERROR(r.Finish());
  return packet;
}

absl::StatusOr<ParseMessage> DecodeParse(Reader& r) {
  ParseMessage m;
  ASSIGN_OR_RETURN(m.name, r.String("statement name"));
  ASSIGN_OR_RETURN(m.query, r.String("query string"));
  ASSIGN_OR_RETURN(int n, r.Count(4, "parameter type count"));
  m.param_oids.resize(n);
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(int32_t oid, r.Int32("parameter type"));
    m.param_oids[i] = static_cast<uint32_t>(oid);
  }
  return m;
}

absl::StatusOr<BindMessage> DecodeBind(Reader& r) {
  BindMessage m;
  ASSIGN_OR_RETURN(m.portal, r.String("portal name"));
  ASSIGN_OR_RETURN(m.statement, r.String("statement name"));
  ASSIGN_OR_RETURN(m.param_formats, FormatCodes(r, "parameter format count"));
  ASSIGN_OR_RETURN(int n, r.Count(4, "parameter count"));
  m.params.resize(n);
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(int32_t len, r.Int32("parameter length"));
    if (len == -1) continue;  // NULL
    if (len < 0) return ProtocolError(absl::StrCat("invalid parameter length ", len));
    ASSIGN_OR_RETURN(m.params[i], r.Bytes(static_cast<size_t>(len), "parameter value"));
  }
  ASSIGN_OR_RETURN(m.result_formats, FormatCodes(r, "result format count"));
  return m;
}

absl::StatusOr<char> TargetKind(Reader& r, absl::string_view what) {
  ASSIGN_OR_RETURN(char kind, r.Byte(what));
  if (kind != 'S' && kind != 'P') {
    return ProtocolError(absl::StrFormat("invalid %s type '%c'", what, kind));
  }
  return kind;
}

absl::StatusOr<FrontendMessage> DecodeBody(char type, Reader& r) {
  switch (type) {
    case 'Q': {
      ASSIGN_OR_RETURN(absl::string_view sql, r.String("query string"));
      return QueryMessage{sql};
    }
    case 'P':
      return DecodeParse(r);
    case 'B':
      return DecodeBind(r);
    case 'D': {
      DescribeMessage m;
      ASSIGN_OR_RETURN(m.kind, TargetKind(r, "describe"));
      ASSIGN_OR_RETURN(m.name, r.String("describe target name"));
      return m;
    }
    case 'E': {
      ExecuteMessage m;
      ASSIGN_OR_RETURN(m.portal, r.String("portal name"));
      ASSIGN_OR_RETURN(m.max_rows, r.Int32("row limit"));
      return m;
    }
    case 'C': {
      CloseMessage m;
      ASSIGN_OR_RETURN(m.kind, TargetKind(r, "close"));
      ASSIGN_OR_RETURN(m.name, r.String("close target name"));
      return m;
    }
    case 'S':
      return SyncMessage{};
    case 'H':
      return FlushMessage{};
    case 'X':
      return TerminateMessage{};
    case 'd': {
      CopyDataMessage m{r.rest()};
      RETURN_IF_ERROR(r.Bytes(r.rest().size(), "copy data").status());
      return m;
    }
    case 'c':
      return CopyDoneMessage{};
    case 'f': {
      ASSIGN_OR_RETURN(absl::string_view reason, r.String("copy failure reason"));
      return CopyFailMessage{reason};
    }
    case 'p': {
      PasswordMessage m{r.rest()};
      RETURN_IF_ERROR(r.Bytes(r.rest().size(), "password data").status());
      return m;
    }
    case 'F': {
      RETURN_IF_ERROR(r.Bytes(r.rest().size(), "function call").status());
      return FunctionCallMessage{};
    }
    default:
      if (type >= 0x20 && type < 0x7f) {
        return ProtocolError(absl::StrFormat("invalid frontend message type '%c'", type));
      }
      return ProtocolError(absl::StrFormat("invalid frontend message type 0x%02x",
                                           static_cast<unsigned char>(type)));
  }
}

}  // namespace

absl::Status ProtocolError(absl::string_view message) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kProtocolViolation, message);
}

absl::StatusOr<uint32_t> DecodeStartupLength(absl::string_view length_word) {
  if (length_word.size() != 4) return ProtocolError("incomplete startup packet");
  uint32_t len = LoadBig32(length_word.data());
  if (len < 8 || len > kMaxStartupPacket) {
    return ProtocolError(absl::StrCat("invalid length of startup packet: ", len));
  }
  return len;
}

absl::StatusOr<StartupPacket> DecodeStartupPacket(absl::string_view body) {
  if (body.size() < 4) return ProtocolError("incomplete startup packet");
  uint32_t code = LoadBig32(body.data());
  absl::string_view rest = body.substr(4);
  auto fixed_size = [&](StartupPacket::Kind kind, size_t size) -> absl::StatusOr<StartupPacket> {
    if (rest.size() != size) return ProtocolError("invalid length of startup packet");
    StartupPacket packet;
    packet.kind = kind;
    return packet;
  };
  switch (code) {
    case kSslRequestCode:
      return fixed_size(StartupPacket::Kind::kSslRequest, 0);
    case kGssEncRequestCode:
      return fixed_size(StartupPacket::Kind::kGssEncRequest, 0);
    case kCancelRequestCode: {
      ASSIGN_OR_RETURN(StartupPacket packet,
                       fixed_size(StartupPacket::Kind::kCancelRequest, 8));
      packet.cancel_pid = LoadBig32(rest.data());
      packet.cancel_secret = LoadBig32(rest.data() + 4);
      return packet;
    }
    default:
      break;
  }
  if ((code >> 16) != 3) {
    return ProtocolError(absl::StrFormat(
        "unsupported frontend protocol %u.%u: server supports 3.0", code >> 16, code & 0xffff));
  }
  return DecodeStartupParams(code, rest);
}

absl::StatusOr<uint32_t> DecodeMessageLength(absl::string_view length_word) {
  if (length_word.size() != 4) return ProtocolError("incomplete message header");
  uint32_t len = LoadBig32(length_word.data());
  if (len < 4 || len > kMaxMessage) {
    return ProtocolError(absl::StrCat("invalid message length ", len));
  }
  return len - 4;
}

absl::StatusOr<FrontendMessage> DecodeFrontendMessage(char type, absl::string_view body) {
  Reader r(body);
  ASSIGN_OR_RETURN(FrontendMessage m, DecodeBody(type, r));
  RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<SaslInitialResponse> DecodeSaslInitial(absl::string_view body) {
  Reader r(body);
  SaslInitialResponse m;
  ASSIGN_OR_RETURN(m.mechanism, r.String("SASL mechanism"));
  ASSIGN_OR_RETURN(int32_t len, r.Int32("SASL data length"));
  if (len != -1) {
    if (len < 0) return ProtocolError(absl::StrCat("invalid SASL data length ", len));
    ASSIGN_OR_RETURN(m.data, r.Bytes(static_cast<size_t>(len), "SASL data"));
  }
  RETURN_IF_ERROR(r.Finish());
  return m;
}

}  // namespace shale::gate::pgwire
