#pragma once

// PostgreSQL types for SQLite values: the type OID of a result column (from
// the column's declared SQLite type, with SQLite's affinity rules, or from its
// values for an expression), and each value's text and binary wire formats.
// Stateless, safe from any thread.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tablet_data.pb.h"

namespace shale::gate::pgwire {

// The PostgreSQL type OIDs this front end sends or understands.
namespace oid {
inline constexpr uint32_t kUnspecified = 0;
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kUnknown = 705;
inline constexpr uint32_t kBpchar = 1042;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kNumeric = 1700;
}  // namespace oid

// The OID for a declared SQLite type (case-insensitive, checked in SQLite's
// affinity order): "INT" -> int8; "CHAR"/"CLOB"/"TEXT" -> text; "BLOB" ->
// bytea; "REAL"/"FLOA"/"DOUB" -> float8; "BOOL" -> bool; "NUMERIC"/"DECIMAL"
// -> numeric; "DATE"/"TIME" -> text. kUnspecified when the declared type is
// empty or names none of these: the column's values decide (OidForValue).
uint32_t OidForDeclType(absl::string_view decl_type);

// The OID an expression column takes from its first non-null value: int64 ->
// int8, float64 -> float8, text -> text, blob -> bytea, null -> text.
uint32_t OidForValue(const tablet::Value& value);

// The OID of column `column` of a result: OidForDeclType of its field, else
// the first non-null value in that column (text when all are null).
uint32_t ColumnOid(const tablet::QueryResult& result, int column);

// The RowDescription type length of an OID (-1 for variable length).
int16_t TypeLength(uint32_t type_oid);

// A float8 as PostgreSQL prints it: the shortest text that reads back to the
// same double, in exponent form below 1e-4 and from 1e15 ("1e+15",
// "1.5e-05"), and "Infinity", "-Infinity", "NaN".
std::string FormatFloat8(double v);

// Appends the text format of a non-null value in a column of type_oid:
// integers in decimal, float8 as FormatFloat8, bool columns as t/f, bytea
// (and blobs anywhere) as \x hex, text as is.
void AppendTextValue(const tablet::Value& value, uint32_t type_oid, std::string* out);

// Appends the binary format of a non-null value in a column of type_oid,
// converting the value when that loses nothing (3.0 into int8, "12" into
// int8, 7 into text). InvalidArgument with SQLSTATE 22P02 when it would.
absl::Status AppendBinaryValue(const tablet::Value& value, uint32_t type_oid, std::string* out);

}  // namespace shale::gate::pgwire
