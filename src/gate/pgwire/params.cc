#include "gate/pgwire/params.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/sqlstate.h"
#include "base/status_macros.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/numeric.h"
#include "gate/pgwire/types.h"
#include "gate/pgwire/utf8.h"

namespace shale::gate::pgwire {
namespace {

using tablet::Value;

constexpr absl::string_view kBadBinary = "22P03";      // invalid_binary_representation
constexpr absl::string_view kOutOfRange = "22003";     // numeric_value_out_of_range
constexpr absl::string_view kBadEncoding = "22021";    // character_not_in_repertoire

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return absl::ascii_tolower(c) - 'a' + 10;
}

absl::Status BadText(absl::string_view type_name, absl::string_view text) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidTextRepresentation,
                  absl::StrCat("invalid input syntax for type ", type_name, ": \"",
                               text.substr(0, 64), "\""));
}

absl::Status BadBinary(absl::string_view type_name) {
  return SqlError(absl::StatusCode::kInvalidArgument, kBadBinary,
                  absl::StrCat("incorrect binary data format for type ", type_name));
}

Value IntValue(int64_t v) {
  Value value;
  value.set_int64(v);
  return value;
}

Value FloatValue(double v) {
  Value value;
  value.set_float64(v);
  return value;
}

Value TextValue(absl::string_view v) {
  Value value;
  value.set_text(std::string(v));
  return value;
}

Value BlobValue(absl::string_view v) {
  Value value;
  value.set_blob(std::string(v));
  return value;
}

absl::StatusOr<Value> DecodeTextInt(absl::string_view text, uint32_t type_oid) {
  int64_t v;
  absl::string_view name = type_oid == oid::kInt2 ? "smallint"
                           : type_oid == oid::kInt4 ? "integer"
                                                     : "bigint";
  if (!absl::SimpleAtoi(text, &v)) return BadText(name, text);
  int64_t limit = type_oid == oid::kInt2 ? INT16_MAX : type_oid == oid::kInt4 ? INT32_MAX : 0;
  if (limit != 0 && (v > limit || v < -limit - 1)) {
    return SqlError(absl::StatusCode::kOutOfRange, kOutOfRange,
                    absl::StrCat("value \"", text, "\" is out of range for type ", name));
  }
  return IntValue(v);
}

// A numeric in text: int64 or float64 when that is exact, else the text.
absl::StatusOr<Value> DecodeTextNumeric(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  if (!IsNumericText(t)) return BadText("numeric", text);
  int64_t i;
  if (absl::SimpleAtoi(t, &i)) return IntValue(i);
  size_t significant = 0;
  for (char c : t) {
    if (c == 'e' || c == 'E') break;
    if (absl::ascii_isdigit(c)) ++significant;
  }
  double d;
  if (significant <= 15 && absl::SimpleAtod(t, &d)) return FloatValue(d);
  return TextValue(t);
}

absl::StatusOr<Value> DecodeTextBool(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  auto prefix_of = [&t](absl::string_view word, size_t min_len) {
    return t.size() >= min_len && t.size() <= word.size() && word.substr(0, t.size()) == t;
  };
  if (prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || t == "1") {
    return IntValue(1);
  }
  if (prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || t == "0") {
    return IntValue(0);
  }
  return BadText("boolean", text);
}

// bytea input: "\x" hex (whitespace between byte pairs allowed) or the escape
// form (\\ and \ooo octal, anything else literal).
absl::StatusOr<Value> DecodeTextBytea(absl::string_view text) {
  std::string out;
  if (absl::StartsWith(text, "\\x")) {
    absl::string_view hex = text.substr(2);
    for (size_t i = 0; i < hex.size();) {
      if (absl::ascii_isspace(hex[i])) {
        ++i;
        continue;
      }
      if (i + 1 >= hex.size() || !absl::ascii_isxdigit(hex[i]) ||
          !absl::ascii_isxdigit(hex[i + 1])) {
        return BadText("bytea", text);
      }
      out.push_back(static_cast<char>(HexDigit(hex[i]) * 16 + HexDigit(hex[i + 1])));
      i += 2;
    }
    return BlobValue(out);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
    } else if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
    } else if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
               text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' &&
               text[i + 3] <= '7') {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      return BadText("bytea", text);
    }
  }
  return BlobValue(out);
}

absl::StatusOr<Value> DecodeText(absl::string_view text, uint32_t type_oid) {
  switch (type_oid) {
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid:
      return DecodeTextInt(text, type_oid);
    case oid::kFloat4:
    case oid::kFloat8: {
      double d;
      if (!absl::SimpleAtod(text, &d)) return BadText("double precision", text);
      return FloatValue(d);
    }
    case oid::kNumeric:
      return DecodeTextNumeric(text);
    case oid::kBool:
      return DecodeTextBool(text);
    case oid::kBytea:
      return DecodeTextBytea(text);
    default:
      if (!IsValidUtf8(text)) {
        return SqlError(absl::StatusCode::kInvalidArgument, kBadEncoding,
                        "invalid byte sequence for encoding \"UTF8\"");
      }
      return TextValue(text);
  }
}

absl::StatusOr<Value> DecodeBinary(absl::string_view data, uint32_t type_oid) {
  auto sized = [&](size_t n, absl::string_view name) -> absl::Status {
    return data.size() == n ? absl::OkStatus() : BadBinary(name);
  };
  switch (type_oid) {
    case oid::kInt2:
      RETURN_IF_ERROR(sized(2, "smallint"));
      return IntValue(static_cast<int16_t>(LoadBig16(data.data())));
    case oid::kInt4:
      RETURN_IF_ERROR(sized(4, "integer"));
      return IntValue(static_cast<int32_t>(LoadBig32(data.data())));
    case oid::kOid:
      RETURN_IF_ERROR(sized(4, "oid"));
      return IntValue(LoadBig32(data.data()));
    case oid::kInt8:
      RETURN_IF_ERROR(sized(8, "bigint"));
      return IntValue(static_cast<int64_t>(LoadBig64(data.data())));
    case oid::kFloat4: {
      RETURN_IF_ERROR(sized(4, "real"));
      uint32_t bits = LoadBig32(data.data());
      float f;
      std::memcpy(&f, &bits, sizeof(f));
      return FloatValue(f);
    }
    case oid::kFloat8: {
      RETURN_IF_ERROR(sized(8, "double precision"));
      uint64_t bits = LoadBig64(data.data());
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      return FloatValue(d);
    }
    case oid::kBool:
      RETURN_IF_ERROR(sized(1, "boolean"));
      return IntValue(data[0] != 0 ? 1 : 0);
    case oid::kNumeric: {
      ASSIGN_OR_RETURN(std::string text, NumericBinaryToText(data));
      return DecodeTextNumeric(text);
    }
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kUnknown:
      return DecodeText(data, oid::kText);
    default:
      return BlobValue(data);
  }
}

}  // namespace

absl::StatusOr<Value> DecodeParam(std::optional<absl::string_view> data, int16_t format,
                                  uint32_t type_oid) {
  if (format != 0 && format != 1) {
    return ProtocolError(absl::StrCat("unsupported format code: ", format));
  }
  if (!data.has_value()) {
    Value null;
    null.set_null(true);
    return null;
  }
  return format == 0 ? DecodeText(*data, type_oid) : DecodeBinary(*data, type_oid);
}

int16_t FormatFor(absl::Span<const int16_t> formats, size_t i) {
  if (formats.empty()) return 0;
  if (formats.size() == 1) return formats[0];
  return i < formats.size() ? formats[i] : 0;
}

absl::StatusOr<std::vector<Value>> DecodeBindParams(const BindMessage& bind, int num_params,
                                                    absl::Span<const uint32_t> param_oids) {
  if (static_cast<int>(bind.params.size()) != num_params) {
    return ProtocolError(absl::StrFormat(
        "bind message supplies %d parameters, but prepared statement \"%s\" requires %d",
        bind.params.size(), bind.statement, num_params));
  }
  if (bind.param_formats.size() > 1 && bind.param_formats.size() != bind.params.size()) {
    return ProtocolError(absl::StrFormat("bind message has %d parameter formats but %d parameters",
                                         bind.param_formats.size(), bind.params.size()));
  }
  std::vector<Value> values;
  values.reserve(bind.params.size());
  for (size_t i = 0; i < bind.params.size(); ++i) {
    uint32_t type_oid = i < param_oids.size() ? param_oids[i] : oid::kUnspecified;
    absl::StatusOr<Value> v = DecodeParam(bind.params[i], FormatFor(bind.param_formats, i),
                                          type_oid);
    if (!v.ok()) {
      return WithSqlState(
          absl::Status(v.status().code(),
                       absl::StrCat(v.status().message(), " (parameter $", i + 1, ")")),
          SqlStateOrDefault(v.status()));
    }
    values.push_back(*std::move(v));
  }
  return values;
}

}  // namespace shale::gate::pgwire
