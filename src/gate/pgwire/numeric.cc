#include "gate/pgwire/numeric.h"

#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/sqlstate.h"
#include "gate/pgwire/byte_order.h"

namespace shale::gate::pgwire {
namespace {

constexpr uint16_t kPositive = 0x0000;
constexpr uint16_t kNegative = 0x4000;
constexpr uint16_t kNaN = 0xC000;
constexpr uint16_t kPlusInfinity = 0xD000;
constexpr uint16_t kMinusInfinity = 0xF000;
constexpr int kMaxExponent = 100000;      // beyond numeric's range anyway
constexpr int kMaxDisplayScale = 0x3FFF;  // numeric's own limit

absl::Status BadNumeric(absl::string_view text) {
  return SqlError(absl::StatusCode::kInvalidArgument, sqlstate::kInvalidTextRepresentation,
                  absl::StrCat("invalid input syntax for type numeric: \"",
                               text.substr(0, 64), "\""));
}

// A decimal number split into its digits and where the point goes:
// value = 0.<digits> * 10^point, negated when negative.
struct Decimal {
  bool negative = false;
  std::string digits;
  int64_t point = 0;
  int display_scale = 0;
};

bool ParseDecimal(absl::string_view text, Decimal* d) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) d->negative = text[i++] == '-';
  size_t int_digits = 0, frac_digits = 0;
  for (; i < text.size() && absl::ascii_isdigit(text[i]); ++i, ++int_digits) {
    d->digits.push_back(text[i]);
  }
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && absl::ascii_isdigit(text[i]); ++i, ++frac_digits) {
      d->digits.push_back(text[i]);
    }
  }
  if (int_digits + frac_digits == 0) return false;
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    bool negative_exponent = false;
    if (++i < text.size() && (text[i] == '+' || text[i] == '-')) {
      negative_exponent = text[i++] == '-';
    }
    if (i == text.size()) return false;
    for (; i < text.size() && absl::ascii_isdigit(text[i]); ++i) {
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > kMaxExponent) return false;
    }
    if (negative_exponent) exponent = -exponent;
  }
  if (i != text.size()) return false;
  d->point = static_cast<int64_t>(int_digits) + exponent;
  int64_t scale = static_cast<int64_t>(frac_digits) - exponent;
  d->display_scale = static_cast<int>(scale < 0 ? 0 : scale > kMaxDisplayScale ? kMaxDisplayScale
                                                                                  : scale);
  return true;
}

void AppendHeader(int16_t ndigits, int16_t weight, uint16_t sign, int16_t dscale,
                  std::string* out) {
  AppendBig16(static_cast<uint16_t>(ndigits), out);
  AppendBig16(static_cast<uint16_t>(weight), out);
  AppendBig16(sign, out);
  AppendBig16(static_cast<uint16_t>(dscale), out);
}

bool SpecialValue(absl::string_view text, uint16_t* sign) {
  if (absl::EqualsIgnoreCase(text, "NaN")) {
    *sign = kNaN;
  } else if (absl::EqualsIgnoreCase(text, "Infinity") ||
             absl::EqualsIgnoreCase(text, "+Infinity")) {
    *sign = kPlusInfinity;
  } else if (absl::EqualsIgnoreCase(text, "-Infinity")) {
    *sign = kMinusInfinity;
  } else {
    return false;
  }
  return true;
}

void AppendGroup(int group, bool pad, std::string* out) {
  if (pad) {
    absl::StrAppend(out, absl::Dec(group, absl::kZeroPad4));
  } else {
    absl::StrAppend(out, group);
  }
}

}  // namespace

bool IsNumericText(absl::string_view text) {
  uint16_t sign;
  Decimal d;
  return SpecialValue(text, &sign) || ParseDecimal(text, &d);
}

absl::Status AppendNumericBinary(absl::string_view text, std::string* out) {
  uint16_t special;
  if (SpecialValue(text, &special)) {
    AppendHeader(0, 0, special, 0, out);
    return absl::OkStatus();
  }
  Decimal d;
  if (!ParseDecimal(text, &d)) return BadNumeric(text);
  // Strip leading zeros (each moves the point left) and trailing zeros.
  size_t lead = d.digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    AppendHeader(0, 0, kPositive, static_cast<int16_t>(d.display_scale), out);
    return absl::OkStatus();
  }
  std::string digits = d.digits.substr(lead, d.digits.find_last_not_of('0') + 1 - lead);
  int64_t point = d.point - static_cast<int64_t>(lead);
  // Align the point on a base-10000 group boundary.
  int64_t pad_left = ((4 - point % 4) % 4 + 4) % 4;
  digits.insert(0, static_cast<size_t>(pad_left), '0');
  point += pad_left;
  digits.append((4 - digits.size() % 4) % 4, '0');
  int64_t ndigits = static_cast<int64_t>(digits.size() / 4);
  int64_t weight = point / 4 - 1;
  if (ndigits > INT16_MAX || weight > INT16_MAX || weight < INT16_MIN) return BadNumeric(text);
  AppendHeader(static_cast<int16_t>(ndigits), static_cast<int16_t>(weight),
               d.negative ? kNegative : kPositive, static_cast<int16_t>(d.display_scale), out);
  for (int64_t g = 0; g < ndigits; ++g) {
    int value = 0;
    for (int k = 0; k < 4; ++k) value = value * 10 + (digits[g * 4 + k] - '0');
    AppendBig16(static_cast<uint16_t>(value), out);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NumericBinaryToText(absl::string_view binary) {
  auto bad = [] {
    return SqlError(absl::StatusCode::kInvalidArgument, "22P03",
                    "invalid binary representation of numeric");
  };
  if (binary.size() < 8) return bad();
  int ndigits = static_cast<int16_t>(LoadBig16(binary.data()));
  int weight = static_cast<int16_t>(LoadBig16(binary.data() + 2));
  uint16_t sign = LoadBig16(binary.data() + 4);
  int dscale = static_cast<int16_t>(LoadBig16(binary.data() + 6));
  if (ndigits < 0 || binary.size() != 8 + 2 * static_cast<size_t>(ndigits)) return bad();
  if (dscale < 0 || dscale > kMaxDisplayScale) return bad();
  if (sign == kNaN) return std::string("NaN");
  if (sign == kPlusInfinity) return std::string("Infinity");
  if (sign == kMinusInfinity) return std::string("-Infinity");
  if (sign != kPositive && sign != kNegative) return bad();
  std::vector<int> digits(ndigits);
  for (int i = 0; i < ndigits; ++i) {
    digits[i] = LoadBig16(binary.data() + 8 + 2 * i);
    if (digits[i] > 9999) return bad();
  }
  auto digit = [&](int i) { return i >= 0 && i < ndigits ? digits[i] : 0; };
  std::string out;
  for (int i = 0; i <= weight; ++i) AppendGroup(digit(i), i > 0, &out);
  // Unnormalized input may lead with zero groups: no leading zeros.
  size_t first = out.find_first_not_of('0');
  out.erase(0, first == std::string::npos ? out.size() : first);
  if (out.empty()) out.push_back('0');
  if (dscale > 0) {
    std::string frac;
    for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; ++i) {
      AppendGroup(digit(i), true, &frac);
    }
    frac.resize(dscale);
    absl::StrAppend(&out, ".", frac);
  }
  // No "-0": the sign shows only when a shown digit is not zero.
  if (sign == kNegative && out.find_first_of("123456789") != std::string::npos) {
    out.insert(0, 1, '-');
  }
  return out;
}

}  // namespace shale::gate::pgwire
