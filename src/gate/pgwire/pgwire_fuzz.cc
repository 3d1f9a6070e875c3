// Fuzz target for the wire decoders. The first byte picks what the rest is:
//   0: a connection's input: a startup packet, then typed messages;
//   1: typed messages only;
//   2: Bind parameter values (each with a format and type OID) and numerics.
// Invariants: decoding errors are 08P01 InvalidArgument (22xxx for values);
// a decoded message encodes back to the same bytes; numerics survive a
// binary/text round trip.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/frontend_builder.h"
#include "gate/pgwire/frontend_messages.h"
#include "gate/pgwire/numeric.h"
#include "gate/pgwire/params.h"
#include "gate/pgwire/types.h"

namespace shale::gate::pgwire {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "gate_pgwire_fuzz: invariant violated: %s\n", what);
  std::abort();
}

void CheckProtocolError(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument || SqlState(status) != "08P01") {
    Fail("decoding error is not 08P01 InvalidArgument");
  }
}

constexpr uint32_t kOids[] = {oid::kUnspecified, oid::kBool,   oid::kBytea,  oid::kInt8,
                              oid::kInt2,        oid::kInt4,   oid::kText,   oid::kOid,
                              oid::kFloat4,      oid::kFloat8, oid::kUnknown, oid::kVarchar,
                              oid::kNumeric,     1082};

// The bytes a client would send for m (for the messages that have a body).
std::string Reencode(char type, const FrontendMessage& message) {
  FrontendBuilder b;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, QueryMessage>) {
          b.Query(m.sql);
        } else if constexpr (std::is_same_v<T, ParseMessage>) {
          b.Parse(m.name, m.query, m.param_oids);
        } else if constexpr (std::is_same_v<T, BindMessage>) {
          std::vector<std::optional<std::string>> params;
          for (const auto& p : m.params) {
            params.push_back(p.has_value() ? std::optional<std::string>(std::string(*p))
                                           : std::nullopt);
          }
          b.Bind(m.portal, m.statement, m.param_formats, params, m.result_formats);
        } else if constexpr (std::is_same_v<T, DescribeMessage>) {
          b.Describe(m.kind, m.name);
        } else if constexpr (std::is_same_v<T, ExecuteMessage>) {
          b.Execute(m.portal, m.max_rows);
        } else if constexpr (std::is_same_v<T, CloseMessage>) {
          b.Close(m.kind, m.name);
        } else if constexpr (std::is_same_v<T, CopyFailMessage>) {
          b.CopyFail(m.reason);
        } else if constexpr (std::is_same_v<T, CopyDataMessage>) {
          b.CopyData(m.data);
        } else if constexpr (std::is_same_v<T, PasswordMessage>) {
          b.Password(m.data);
        } else if constexpr (std::is_same_v<T, FunctionCallMessage>) {
          b.Typed('F', "");  // body not kept
        } else {
          b.Typed(type, "");
        }
      },
      message);
  return b.bytes();
}

void CheckBind(const BindMessage& bind) {
  for (size_t i = 0; i < std::size(kOids); ++i) {
    uint32_t oids[] = {kOids[i], kOids[(i + 3) % std::size(kOids)]};
    absl::StatusOr<std::vector<tablet::Value>> values =
        DecodeBindParams(bind, static_cast<int>(bind.params.size()), oids);
    if (values.ok() && values->size() != bind.params.size()) Fail("wrong number of values");
  }
}

// Typed messages until the input runs out or one is malformed.
void DecodeMessages(absl::string_view in) {
  while (in.size() >= 5) {
    char type = in[0];
    absl::StatusOr<uint32_t> len = DecodeMessageLength(in.substr(1, 4));
    if (!len.ok()) return CheckProtocolError(len.status());
    if (*len > in.size() - 5) return;
    absl::string_view body = in.substr(5, *len);
    absl::StatusOr<FrontendMessage> m = DecodeFrontendMessage(type, body);
    if (!m.ok()) {
      CheckProtocolError(m.status());
    } else {
      if (type != 'F' && Reencode(type, *m) != in.substr(0, 5 + *len)) {
        Fail("a decoded message does not encode back to its bytes");
      }
      if (const auto* bind = std::get_if<BindMessage>(&*m)) CheckBind(*bind);
      if (const auto* password = std::get_if<PasswordMessage>(&*m)) {
        absl::StatusOr<SaslInitialResponse> sasl = DecodeSaslInitial(password->data);
        if (!sasl.ok()) CheckProtocolError(sasl.status());
      }
    }
    in.remove_prefix(5 + *len);
  }
}

void DecodeConnection(absl::string_view in) {
  if (in.size() < 4) return;
  absl::StatusOr<uint32_t> len = DecodeStartupLength(in.substr(0, 4));
  if (!len.ok()) return CheckProtocolError(len.status());
  if (*len > in.size()) return;
  absl::StatusOr<StartupPacket> packet = DecodeStartupPacket(in.substr(4, *len - 4));
  if (!packet.ok()) return CheckProtocolError(packet.status());
  if (packet->kind == StartupPacket::Kind::kStartup) {
    FrontendBuilder again;
    again.Startup(packet->params, packet->protocol);
    if (again.bytes() != in.substr(0, *len)) Fail("startup packet does not encode back");
  }
  DecodeMessages(in.substr(*len));
}

void CheckNumeric(absl::string_view in) {
  std::string binary;
  if (AppendNumericBinary(in, &binary).ok()) {
    if (!IsNumericText(in)) Fail("numeric accepted text IsNumericText rejects");
    if (!NumericBinaryToText(binary).ok()) Fail("numeric binary made here does not decode");
  }
  absl::StatusOr<std::string> text = NumericBinaryToText(in);
  if (!text.ok()) return;
  std::string again;
  if (!AppendNumericBinary(*text, &again).ok()) Fail("numeric text made here does not encode");
  absl::StatusOr<std::string> text2 = NumericBinaryToText(again);
  if (!text2.ok() || *text2 != *text) Fail("numeric text is not stable");
}

// Values: [format byte][oid index byte][rest as the value].
void DecodeValues(absl::string_view in) {
  CheckNumeric(in);
  if (in.size() < 2) return;
  int16_t format = static_cast<int16_t>(static_cast<unsigned char>(in[0]) % 3);
  uint32_t type_oid = kOids[static_cast<unsigned char>(in[1]) % std::size(kOids)];
  absl::StatusOr<tablet::Value> v = DecodeParam(in.substr(2), format, type_oid);
  if (!v.ok()) {
    std::string state = SqlState(v.status());
    if (state.substr(0, 2) != "22" && state != "08P01") Fail("value error has an odd SQLSTATE");
    return;
  }
  // Whatever came in can be sent back out in text, and in binary as itself.
  std::string out;
  AppendTextValue(*v, type_oid, &out);
  if (v->kind_case() != tablet::Value::kNull &&
      !AppendBinaryValue(*v, OidForValue(*v), &out).ok() &&
      v->kind_case() != tablet::Value::kText) {
    Fail("a decoded value cannot be sent as its own type");
  }
}

}  // namespace
}  // namespace shale::gate::pgwire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  absl::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      shale::gate::pgwire::DecodeConnection(in);
      break;
    case 1:
      shale::gate::pgwire::DecodeMessages(in);
      break;
    default:
      shale::gate::pgwire::DecodeValues(in);
  }
  return 0;
}
