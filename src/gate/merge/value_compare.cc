#include "gate/merge/value_compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/string_view.h"

namespace shale::gate::merge {
namespace {

// SQLite's storage classes in their sort order.
enum class SortClass { kNull = 0, kNumber = 1, kText = 2, kBlob = 3 };

SortClass ClassOf(const tablet::Value& value) {
  switch (value.kind_case()) {
    case tablet::Value::kInt64:
      return SortClass::kNumber;
    case tablet::Value::kFloat64:
      return std::isnan(value.float64()) ? SortClass::kNull : SortClass::kNumber;
    case tablet::Value::kText:
      return SortClass::kText;
    case tablet::Value::kBlob:
      return SortClass::kBlob;
    case tablet::Value::kNull:
    case tablet::Value::KIND_NOT_SET:
      break;
  }
  return SortClass::kNull;
}

template <typename T>
int Sign(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

int CompareNumbers(const tablet::Value& a, const tablet::Value& b) {
  const bool a_int = a.kind_case() == tablet::Value::kInt64;
  const bool b_int = b.kind_case() == tablet::Value::kInt64;
  if (a_int && b_int) return Sign(a.int64(), b.int64());
  if (!a_int && !b_int) return Sign(a.float64(), b.float64());
  if (a_int) return CompareIntReal(a.int64(), b.float64());
  return -CompareIntReal(b.int64(), a.float64());
}

// memcmp over the common prefix, then the shorter one first: SQLite's BINARY
// collation for text and its blob comparison.
int CompareBytes(absl::string_view a, absl::string_view b) {
  const size_t common = std::min(a.size(), b.size());
  if (common > 0) {
    const int c = std::memcmp(a.data(), b.data(), common);
    if (c != 0) return c < 0 ? -1 : 1;
  }
  return Sign(a.size(), b.size());
}

}  // namespace

bool IsSqlNull(const tablet::Value& value) { return ClassOf(value) == SortClass::kNull; }

int CompareIntReal(int64_t i, double r) {
  // 2^63 as a double; every double in [-2^63, 2^63) truncates to an int64.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (r < -kTwo63) return 1;
  if (r >= kTwo63) return -1;
  const double whole = std::trunc(r);
  const int64_t y = static_cast<int64_t>(whole);
  if (i != y) return i < y ? -1 : 1;
  // i equals r's integer part: r's fraction decides.
  return Sign(whole, r);
}

int CompareValues(const tablet::Value& a, const tablet::Value& b) {
  const SortClass ca = ClassOf(a);
  const SortClass cb = ClassOf(b);
  if (ca != cb) return ca < cb ? -1 : 1;
  switch (ca) {
    case SortClass::kNull:
      return 0;
    case SortClass::kNumber:
      return CompareNumbers(a, b);
    case SortClass::kText:
      return CompareBytes(a.text(), b.text());
    case SortClass::kBlob:
      return CompareBytes(a.blob(), b.blob());
  }
  return 0;
}

}  // namespace shale::gate::merge
