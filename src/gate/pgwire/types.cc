#include "gate/pgwire/types.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"
#include "gate/pgwire/numeric.h"
#include "gate/pgwire/utf8.h"

namespace shale::gate::pgwire {
namespace {

using tablet::Value;

absl::Status CannotConvert(const Value& value, uint32_t type_oid) {
  std::string shown;
  if (value.kind_case() == Value::kBlob) {
    shown = "(a blob)";
  } else {
    AppendTextValue(value, oid::kText, &shown);
  }
  if (shown.size() > 64) shown.resize(64);
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidTextRepresentation,
                  absl::StrCat("value ", shown, " cannot be sent in binary as type oid ",
                               type_oid, " without loss"));
}

// The int64 a value stands for without loss, if any.
bool ExactInt64(const Value& value, int64_t* out) {
  switch (value.kind_case()) {
    case Value::kInt64:
      *out = value.int64();
      return true;
    case Value::kFloat64: {
      double d = value.float64();
      // 2^63 is exact as a double; anything in [-2^63, 2^63) with no fraction fits.
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d)) {
        return false;
      }
      *out = static_cast<int64_t>(d);
      return true;
    }
    case Value::kText:
      return absl::SimpleAtoi(value.text(), out) && absl::StrCat(*out) == value.text();
    default:
      return false;
  }
}

// The double a value stands for without loss, if any.
bool ExactDouble(const Value& value, double* out) {
  switch (value.kind_case()) {
    case Value::kFloat64:
      *out = value.float64();
      return true;
    case Value::kInt64: {
      int64_t v = value.int64();
      double d = static_cast<double>(v);
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) ||
          static_cast<int64_t>(d) != v) {
        return false;
      }
      *out = d;
      return true;
    }
    case Value::kText: {
      const std::string& t = value.text();
      if (t.empty() || absl::ascii_isspace(t.front()) || absl::ascii_isspace(t.back())) {
        return false;
      }
      return absl::SimpleAtod(t, out);
    }
    default:
      return false;
  }
}

bool ExactBool(const Value& value, bool* out) {
  int64_t v;
  if (value.kind_case() == Value::kText) {
    const std::string& t = value.text();
    if (t != "t" && t != "true" && t != "f" && t != "false") return false;
    *out = t[0] == 't';
    return true;
  }
  if (!ExactInt64(value, &v) || (v != 0 && v != 1)) return false;
  *out = v == 1;
  return true;
}

// The value as text when that is what it is or loses nothing.
bool ExactText(const Value& value, std::string* out) {
  if (value.kind_case() == Value::kBlob) {
    if (!IsValidUtf8(value.blob()) || value.blob().find('\0') != std::string::npos) return false;
    *out = value.blob();
    return true;
  }
  AppendTextValue(value, oid::kText, out);
  return true;
}

}  // namespace

uint32_t OidForDeclType(absl::string_view decl_type) {
  std::string upper = absl::AsciiStrToUpper(decl_type);
  auto has = [&upper](const char* part) { return absl::StrContains(upper, part); };
  if (has("INT")) return oid::kInt8;
  if (has("CHAR") || has("CLOB") || has("TEXT")) return oid::kText;
  if (has("BLOB")) return oid::kBytea;
  if (has("REAL") || has("FLOA") || has("DOUB")) return oid::kFloat8;
  if (has("BOOL")) return oid::kBool;
  if (has("NUMERIC") || has("DECIMAL")) return oid::kNumeric;
  if (has("DATE") || has("TIME")) return oid::kText;
  return oid::kUnspecified;
}

uint32_t OidForValue(const Value& value) {
  switch (value.kind_case()) {
    case Value::kInt64:
      return oid::kInt8;
    case Value::kFloat64:
      return oid::kFloat8;
    case Value::kBlob:
      return oid::kBytea;
    default:
      return oid::kText;
  }
}

uint32_t ColumnOid(const tablet::QueryResult& result, int column) {
  if (column < result.fields_size()) {
    uint32_t declared = OidForDeclType(result.fields(column).decl_type());
    if (declared != oid::kUnspecified) return declared;
  }
  for (const tablet::Row& row : result.rows()) {
    if (column >= row.values_size()) continue;
    const Value& v = row.values(column);
    if (v.kind_case() != Value::kNull && v.kind_case() != Value::KIND_NOT_SET) {
      return OidForValue(v);
    }
  }
  return oid::kText;
}

int16_t TypeLength(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kBool:
      return 1;
    case oid::kInt2:
      return 2;
    case oid::kInt4:
    case oid::kFloat4:
    case oid::kOid:
      return 4;
    case oid::kInt8:
    case oid::kFloat8:
      return 8;
    default:
      return -1;
  }
}

std::string FormatFloat8(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::to_chars_result printed =
      std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  absl::string_view sci(buf, printed.ptr - buf);  // shortest round trip: "-1.2345e+02"
  size_t e = sci.find('e');
  int exponent = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+'), sci.data() + sci.size(), exponent);
  if (exponent < -4 || exponent >= 15) return std::string(sci);
  std::string out;
  absl::string_view mantissa = sci.substr(0, e);
  if (!mantissa.empty() && mantissa[0] == '-') {
    out.push_back('-');
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  if (exponent < 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out.append(digits);
  } else if (digits.size() <= static_cast<size_t>(exponent) + 1) {
    out.append(digits);
    out.append(exponent + 1 - digits.size(), '0');
  } else {
    out.append(digits, 0, exponent + 1);
    out.push_back('.');
    out.append(digits, exponent + 1);
  }
  return out;
}

void AppendTextValue(const Value& value, uint32_t type_oid, std::string* out) {
  switch (value.kind_case()) {
    case Value::kInt64:
      if (type_oid == oid::kBool) {
        out->push_back(value.int64() != 0 ? 't' : 'f');
      } else {
        absl::StrAppend(out, value.int64());
      }
      return;
    case Value::kFloat64:
      out->append(FormatFloat8(value.float64()));
      return;
    case Value::kText:
      out->append(value.text());
      return;
    case Value::kBlob:
      out->append("\\x");
      out->append(absl::BytesToHexString(value.blob()));
      return;
    default:
      return;
  }
}

absl::Status AppendBinaryValue(const Value& value, uint32_t type_oid, std::string* out) {
  switch (type_oid) {
    case oid::kInt8: {
      int64_t v;
      if (!ExactInt64(value, &v)) return CannotConvert(value, type_oid);
      AppendBig64(static_cast<uint64_t>(v), out);
      return absl::OkStatus();
    }
    case oid::kFloat8: {
      double d;
      if (!ExactDouble(value, &d)) return CannotConvert(value, type_oid);
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof(bits));
      AppendBig64(bits, out);
      return absl::OkStatus();
    }
    case oid::kBool: {
      bool b;
      if (!ExactBool(value, &b)) return CannotConvert(value, type_oid);
      out->push_back(b ? 1 : 0);
      return absl::OkStatus();
    }
    case oid::kBytea:
      if (value.kind_case() == Value::kBlob) {
        out->append(value.blob());
      } else {
        AppendTextValue(value, oid::kText, out);
      }
      return absl::OkStatus();
    case oid::kNumeric: {
      if (value.kind_case() == Value::kBlob) return CannotConvert(value, type_oid);
      std::string text;
      AppendTextValue(value, oid::kText, &text);
      if (!AppendNumericBinary(text, out).ok()) return CannotConvert(value, type_oid);
      return absl::OkStatus();
    }
    default: {  // text and anything else sent as text
      std::string text;
      if (!ExactText(value, &text)) return CannotConvert(value, type_oid);
      out->append(text);
      return absl::OkStatus();
    }
  }
}

}  // namespace shale::gate::pgwire
