#include "tablet/engine/value.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/engine_test_util.h"

namespace shale::tablet::engine {
namespace {

using ::testing::ElementsAre;
using testing::OpenEngine;
using testing::TempDir;

TEST(ValueTest, TypesAndAccessors) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_EQ(Value(7).type(), Value::Type::kInt64);
  EXPECT_EQ(Value(7).int64(), 7);
  EXPECT_EQ(Value(int64_t{1} << 40).int64(), int64_t{1} << 40);
  EXPECT_EQ(Value(2.5).float64(), 2.5);
  EXPECT_EQ(Value("abc").text(), "abc");
  EXPECT_EQ(Value(std::string("abc")).type(), Value::Type::kText);
  EXPECT_EQ(Value::Blob("abc").blob(), "abc");
  EXPECT_EQ(Value::Blob("abc").type(), Value::Type::kBlob);
}

TEST(ValueTest, TextAndBlobWithSameBytesDiffer) {
  EXPECT_NE(Value::Text("x"), Value::Blob("x"));
  EXPECT_EQ(Value::Blob("x"), Value::Blob("x"));
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_EQ(Value(), Value::Null());
}

TEST(ValueTest, DebugString) {
  struct Case {
    Value value;
    std::string want;
  };
  const std::vector<Case> cases = {
      {Value(), "NULL"},
      {Value(-42), "-42"},
      {Value(1.5), "1.5"},
      {Value("it's"), "'it''s'"},
      {Value::Blob(std::string("\x00\xff", 2)), "x'00ff'"},
  };
  for (const Case& c : cases) EXPECT_EQ(c.value.DebugString(), c.want);
}

TEST(ValueDeathTest, WrongAccessorAborts) {
  EXPECT_DEATH(Value("text").int64(), "asked for INTEGER, value is TEXT");
  EXPECT_DEATH(Value(1).blob(), "asked for BLOB, value is INTEGER");
}

// Every kind of value survives a trip through SQLite: as a bind echoed back
// by SELECT, and stored in a table and read back.
TEST(ValueRoundTripTest, EveryTypeThroughSqlite) {
  TempDir dir;
  auto engine = OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine->Execute("CREATE TABLE vals(k INTEGER PRIMARY KEY, v)").status());

  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Value> values = {
      Value(),
      Value(0),
      Value(-1),
      Value(std::numeric_limits<int64_t>::min()),
      Value(std::numeric_limits<int64_t>::max()),
      Value(0.0),
      Value(-1.5),
      Value(1e308),
      Value(std::numeric_limits<double>::denorm_min()),
      Value(inf),
      Value(-inf),
      Value(""),
      Value("hello"),
      Value("snow \xe2\x98\x83 man"),
      Value::Text(std::string("nul\0inside", 10)),
      Value::Blob(""),
      Value::Blob(std::string("\x00\x01\xff", 3)),
      Value::Blob(std::string(1 << 20, '\x7f')),
  };
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& v = values[i];
    SCOPED_TRACE(absl::StrCat("value #", i, " ", v.DebugString().substr(0, 40)));
    auto echoed = engine->Execute("SELECT ?1, typeof(?1)", {v});
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    ASSERT_EQ(echoed->rows.size(), 1u);
    EXPECT_EQ(echoed->rows[0][0], v);
    EXPECT_EQ(echoed->rows[0][1], Value(absl::AsciiStrToLower(TypeName(v.type()))));

    ASSERT_OK(
        engine->Execute("INSERT INTO vals(k, v) VALUES (?, ?)", {Value(static_cast<int64_t>(i)), v})
            .status());
    auto stored = engine->Execute("SELECT v FROM vals WHERE k = ?", {static_cast<int64_t>(i)});
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_EQ(stored->rows.size(), 1u);
    EXPECT_EQ(stored->rows[0][0], v);
  }
}

TEST(ResultSetTest, ColumnsNamesAndDeclaredTypes) {
  TempDir dir;
  auto engine = OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine
                ->Execute("CREATE TABLE typed(id INTEGER PRIMARY KEY, name TEXT, price REAL, "
                          "data BLOB, code VARCHAR(10), anything)")
                .status());
  auto rs = engine->Execute("SELECT id, name AS n, price, data, code, anything, 1 + 1 FROM typed");
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_THAT(rs->columns,
              ElementsAre(Column{"id", "INTEGER"}, Column{"n", "TEXT"}, Column{"price", "REAL"},
                          Column{"data", "BLOB"}, Column{"code", "VARCHAR(10)"},
                          Column{"anything", ""}, Column{"1 + 1", ""}));
  EXPECT_TRUE(rs->rows.empty());
}

TEST(ResultSetTest, RowsAffectedAndLastInsertRowid) {
  TempDir dir;
  auto engine = OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)").status());

  auto insert = engine->Execute("INSERT INTO t(v) VALUES ('a'), ('b'), ('c')");
  ASSERT_TRUE(insert.ok()) << insert.status();
  EXPECT_EQ(insert->rows_affected, 3);
  EXPECT_EQ(insert->last_insert_rowid, 3);

  auto update = engine->Execute("UPDATE t SET v = 'z' WHERE id >= 2");
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ(update->rows_affected, 2);
  EXPECT_EQ(update->last_insert_rowid, 0);

  auto none = engine->Execute("DELETE FROM t WHERE id > 100");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->rows_affected, 0);

  auto select = engine->Execute("SELECT count(*) FROM t");
  ASSERT_TRUE(select.ok()) << select.status();
  EXPECT_EQ(select->rows_affected, 0);
  EXPECT_EQ(select->rows[0][0], Value(3));

  auto returning = engine->Execute("DELETE FROM t WHERE id = 1 RETURNING v");
  ASSERT_TRUE(returning.ok()) << returning.status();
  EXPECT_EQ(returning->rows_affected, 1);
  ASSERT_EQ(returning->rows.size(), 1u);
  EXPECT_EQ(returning->rows[0][0], Value("a"));
}

}  // namespace
}  // namespace shale::tablet::engine
