#pragma once

// Comparison of result values with SQLite's rules, so that the gateway orders,
// groups and deduplicates merged rows exactly as one SQLite database would.
// Stateless functions, safe from any thread.
//
// Order: NULL < numbers (int64 and float64 compared by value, an integer
// against a real exactly, without rounding the integer to a double) < text
// (BINARY collation: memcmp, a shorter prefix first) < blob (memcmp, a shorter
// prefix first). Equality is comparison == 0: NULLs are one group and 1 equals
// 1.0, as in GROUP BY and DISTINCT. A Value with no kind set, and a NaN float64
// (SQLite never yields one: it stores NULL instead), count as NULL.

#include <cstdint>

#include "tablet_data.pb.h"

namespace shale::gate::merge {

// True for NULL, an unset Value and a NaN float64.
bool IsSqlNull(const tablet::Value& value);

// Negative, zero or positive as a sorts before, with or after b.
int CompareValues(const tablet::Value& a, const tablet::Value& b);

// a and b fall into one GROUP BY group / are DISTINCT duplicates.
inline bool ValuesEqual(const tablet::Value& a, const tablet::Value& b) {
  return CompareValues(a, b) == 0;
}

// An integer against a real, exactly (SQLite's sqlite3IntFloatCompare).
// r must not be NaN.
int CompareIntReal(int64_t i, double r);

}  // namespace shale::gate::merge
