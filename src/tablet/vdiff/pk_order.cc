#include "tablet/vdiff/pk_order.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tablet/reshard/sql_ident.h"

namespace shale::tablet::vdiff {
namespace {

using Type = engine::Value::Type;

// NULL, numbers, text, blob.
int TypeClass(Type t) {
  switch (t) {
    case Type::kNull:
      return 0;
    case Type::kInt64:
    case Type::kFloat64:
      return 1;
    case Type::kText:
      return 2;
    case Type::kBlob:
      return 3;
  }
  return 4;
}

int Sign(int64_t a, int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

int CompareDoubles(double a, double b) {
  // SQLite stores no NaN (it becomes NULL); order one first anyway, deterministically.
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) ? (std::isnan(b) ? 0 : -1) : 1;
  return a < b ? -1 : (a > b ? 1 : 0);
}

// An integer against a float, exactly (SQLite's sqlite3IntFloatCompare):
// converting a large integer to double would round.
int CompareIntFloat(int64_t i, double r) {
  if (std::isnan(r)) return 1;
  if (r < -9223372036854775808.0) return 1;
  if (r >= 9223372036854775808.0) return -1;
  const int64_t y = static_cast<int64_t>(r);  // truncates toward zero; in range here
  if (i != y) return Sign(i, y);
  const double s = static_cast<double>(i);
  return s < r ? -1 : (s > r ? 1 : 0);
}

int CompareBytes(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c < 0 ? -1 : 1;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

}  // namespace

int CompareValues(const engine::Value& a, const engine::Value& b) {
  const int ca = TypeClass(a.type());
  const int cb = TypeClass(b.type());
  if (ca != cb) return ca < cb ? -1 : 1;
  switch (a.type()) {
    case Type::kNull:
      return 0;
    case Type::kInt64:
      return b.type() == Type::kInt64 ? Sign(a.int64(), b.int64())
                                      : CompareIntFloat(a.int64(), b.float64());
    case Type::kFloat64:
      return b.type() == Type::kFloat64 ? CompareDoubles(a.float64(), b.float64())
                                        : -CompareIntFloat(b.int64(), a.float64());
    case Type::kText:
      return CompareBytes(a.text(), b.text());
    case Type::kBlob:
      return CompareBytes(a.blob(), b.blob());
  }
  return 0;
}

int ComparePk(absl::Span<const engine::Value> a, absl::Span<const engine::Value> b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = CompareValues(a[i], b[i]); c != 0) return c;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

std::string FormatPk(absl::Span<const engine::Value> pk) {
  return absl::StrCat(
      "(",
      absl::StrJoin(pk, ",",
                    [](std::string* out, const engine::Value& v) { out->append(v.DebugString()); }),
      ")");
}

std::string PkOrderBy(const std::vector<std::string>& pk_columns) {
  return absl::StrJoin(pk_columns, ", ", [](std::string* out, const std::string& c) {
    absl::StrAppend(out, reshard::QuoteIdent(c), " COLLATE BINARY");
  });
}

}  // namespace shale::tablet::vdiff
