#pragma once

// PostgreSQL's numeric type on the wire: the binary format (base-10000 digits
// with weight, sign and display scale) to and from decimal text such as
// "-12.50", "1.5e-05", "NaN", "Infinity". Stateless, safe from any thread.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shale::gate::pgwire {

// True when text is a decimal number: [+-]digits[.digits][e[+-]digits] (at
// least one digit), or NaN / [+-]Infinity (any case).
bool IsNumericText(absl::string_view text);

// Appends the numeric binary format of decimal text. InvalidArgument with
// SQLSTATE 22P02 when text is not a number or is out of numeric's range.
absl::Status AppendNumericBinary(absl::string_view text, std::string* out);

// The decimal text of a numeric in binary format ("-12.50", "NaN"); 22P03
// (invalid_binary_representation) when malformed.
absl::StatusOr<std::string> NumericBinaryToText(absl::string_view binary);

}  // namespace shale::gate::pgwire
