#include "gate/merge/value_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gate/merge/test_db.h"
#include "gate/merge/test_values.h"
#include "gtest/gtest.h"

namespace shale::gate::merge {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinInt = std::numeric_limits<int64_t>::min();
constexpr double kTwo53 = 9007199254740992.0;
constexpr double kTwo63 = 9223372036854775808.0;

int SignOf(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

struct CompareCase {
  std::string name;
  tablet::Value a;
  tablet::Value b;
  int want;  // -1, 0 or 1
};

TEST(ValueCompareTest, Table) {
  const std::vector<CompareCase> cases = {
      {"null equals null", Null(), Null(), 0},
      {"unset is null", tablet::Value(), Null(), 0},
      {"nan is null", Real(std::nan("")), Null(), 0},
      {"null before negative int", Null(), Int(-5), -1},
      {"null before huge negative real", Null(), Real(-1e300), -1},
      {"null before empty text", Null(), Text(""), -1},
      {"null before empty blob", Null(), Blob(""), -1},
      {"ints", Int(-3), Int(2), -1},
      {"reals", Real(2.5), Real(-2.5), 1},
      {"int equals integral real", Int(1), Real(1.0), 0},
      {"zero equals negative zero", Int(0), Real(-0.0), 0},
      {"int below fraction", Int(1), Real(1.5), -1},
      {"int above fraction", Int(2), Real(1.5), 1},
      {"negative int above fraction", Int(-1), Real(-1.5), 1},
      {"negative int below fraction", Int(-2), Real(-1.5), -1},
      {"real below int", Real(-1.5), Int(-1), -1},
      {"2^53+1 above its rounded real", Int(9007199254740993), Real(kTwo53), 1},
      {"2^53 equals its real", Int(9007199254740992), Real(kTwo53), 0},
      {"max int below 2^63 real", Int(kMaxInt), Real(kTwo63), -1},
      {"min int equals -2^63 real", Int(kMinInt), Real(-kTwo63), 0},
      {"min int above -1e19", Int(kMinInt), Real(-1e19), 1},
      {"int below 1e300", Int(kMaxInt), Real(1e300), -1},
      {"real before text", Real(1e300), Text(""), -1},
      {"int before text", Int(kMaxInt), Text("0"), -1},
      {"text memcmp", Text("a"), Text("b"), -1},
      {"text binary case", Text("B"), Text("a"), -1},
      {"text prefix first", Text("a"), Text("ab"), -1},
      {"empty text first", Text(""), Text("a"), -1},
      {"text utf8 bytes", Text("\xc3\xa9"), Text("z"), 1},
      {"text embedded nul", Text(std::string("a\0b", 3)), Text("a"), 1},
      {"text equal", Text("abc"), Text("abc"), 0},
      {"text before blob", Text("zzz"), Blob(""), -1},
      {"blob unsigned bytes", Blob("\xff"), Blob("\x01\xff"), 1},
      {"blob prefix first", Blob("\x01"), Blob(std::string("\x01\x00", 2)), -1},
      {"blob equal", Blob("ab"), Blob("ab"), 0},
      {"blob not equal to same text", Blob("ab"), Text("ab"), 1},
  };
  for (const CompareCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(SignOf(CompareValues(c.a, c.b)), c.want);
    EXPECT_EQ(SignOf(CompareValues(c.b, c.a)), -c.want);
    EXPECT_EQ(ValuesEqual(c.a, c.b), c.want == 0);
  }
}

TEST(ValueCompareTest, IsSqlNull) {
  EXPECT_TRUE(IsSqlNull(Null()));
  EXPECT_TRUE(IsSqlNull(tablet::Value()));
  EXPECT_TRUE(IsSqlNull(Real(std::nan(""))));
  EXPECT_FALSE(IsSqlNull(Int(0)));
  EXPECT_FALSE(IsSqlNull(Text("")));
  EXPECT_FALSE(IsSqlNull(Blob("")));
}

// Values that stress the rules: integers around 2^53 and 2^63, reals next to
// them, fractions, signed zeros, texts and blobs sharing prefixes.
std::vector<tablet::Value> EdgeValues() {
  std::vector<tablet::Value> values = {Null()};
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{2}, int64_t{9007199254740992},
                    int64_t{9007199254740993}, int64_t{-9007199254740993}, kMaxInt, kMaxInt - 1,
                    kMinInt, kMinInt + 1}) {
    values.push_back(Int(i));
  }
  for (double r : {0.0, -0.0, 1.0, 1.5, -1.5, 2.0, kTwo53, kTwo53 + 2, -kTwo53, kTwo63, -kTwo63,
                   9223372036854774784.0, 1e300, -1e300, 0.1}) {
    values.push_back(Real(r));
  }
  for (const char* s : {"", "a", "ab", "abc", "B", "\xc3\xa9", "1", "10"}) {
    values.push_back(Text(s));
  }
  for (std::string b : {std::string(""), std::string("a"), std::string("\x01", 1),
                        std::string("\x01\x00", 2), std::string("\xff")}) {
    values.push_back(Blob(b));
  }
  return values;
}

// SQLite compares bound parameters (no affinity) with the rules under test:
// every non-NULL pair must get the same answer from both.
TEST(ValueCompareTest, AgreesWithSqliteOnEveryPair) {
  TestDb db;
  const std::vector<tablet::Value> values = EdgeValues();
  for (const tablet::Value& a : values) {
    for (const tablet::Value& b : values) {
      if (IsSqlNull(a) || IsSqlNull(b)) continue;
      SCOPED_TRACE(ValueString(a) + " vs " + ValueString(b));
      auto result = db.Query("SELECT ?1 < ?2, ?1 = ?2", {a, b});
      ASSERT_TRUE(result.ok()) << result.status();
      const int c = CompareValues(a, b);
      EXPECT_EQ(result->rows(0).values(0).int64(), c < 0 ? 1 : 0);
      EXPECT_EQ(result->rows(0).values(1).int64(), c == 0 ? 1 : 0);
    }
  }
}

// ORDER BY v, rowid in SQLite (NULLs included) equals a stable sort with
// CompareValues of the same values in insertion order.
TEST(ValueCompareTest, SortsLikeSqliteOrderBy) {
  TestDb db;
  ASSERT_TRUE(db.Query("CREATE TABLE t(v)").ok());
  const std::vector<tablet::Value> edge = EdgeValues();
  std::mt19937 gen(20240611);
  std::vector<tablet::Value> inserted;
  for (int i = 0; i < 300; ++i) {
    inserted.push_back(edge[std::uniform_int_distribution<size_t>(0, edge.size() - 1)(gen)]);
    ASSERT_TRUE(db.Query("INSERT INTO t(v) VALUES (?1)", {inserted.back()}).ok());
  }
  auto sorted = db.Query("SELECT v FROM t ORDER BY v, rowid");
  ASSERT_TRUE(sorted.ok()) << sorted.status();
  std::stable_sort(inserted.begin(), inserted.end(),
                   [](const auto& a, const auto& b) { return CompareValues(a, b) < 0; });
  std::vector<std::string> want;
  for (const tablet::Value& v : inserted) want.push_back("(" + ValueString(v) + ")");
  EXPECT_EQ(RowStrings(*sorted), want);
}

}  // namespace
}  // namespace shale::gate::merge
