// The row hash, the primary-key order and the merge-compare of VDiff, without
// tablets. The order is checked against SQLite itself: rows of mixed types
// read with PkOrderBy come back in exactly CompareValues' order.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tablet/engine/engine_test_util.h"
#include "tablet/vdiff/pk_order.h"
#include "tablet/vdiff/row_hash.h"
#include "tablet/vdiff/table_differ.h"

namespace shale::tablet::vdiff {
namespace {

using engine::Value;

TEST(RowHashTest, PinnedOutputs) {
  // The hash is compared across machines and releases: never change these.
  EXPECT_EQ(RowHash({}), 8922497616986557598ULL);
  EXPECT_EQ(RowHash({Value(1), Value("a")}), 10910763653633464451ULL);
}

TEST(RowHashTest, TypesAndOrderMatter) {
  const std::vector<std::vector<Value>> rows = {
      {Value()},           {Value(0)},          {Value(0.0)},        {Value("")},
      {Value::Blob("")},   {Value(1)},          {Value(1.0)},        {Value("1")},
      {Value::Blob("1")},  {Value(1), Value(2)}, {Value(2), Value(1)}, {Value("ab"), Value("")},
      {Value("a"), Value("b")}, {Value(), Value()}, {Value(-0.0)},
  };
  std::vector<uint64_t> hashes;
  for (const auto& r : rows) hashes.push_back(RowHash(r));
  for (size_t i = 0; i < hashes.size(); ++i) {
    for (size_t j = i + 1; j < hashes.size(); ++j) {
      EXPECT_NE(hashes[i], hashes[j]) << "rows " << i << " and " << j;
    }
  }
  EXPECT_EQ(RowHash({Value(7), Value("x"), Value::Blob(std::string("\0\1", 2))}),
            RowHash({Value(7), Value("x"), Value::Blob(std::string("\0\1", 2))}));
}

TEST(PkOrderTest, MixedTypes) {
  const int64_t big = (int64_t{1} << 53) + 1;  // not exact as a double
  EXPECT_LT(CompareValues(Value(), Value(-5)), 0);
  EXPECT_LT(CompareValues(Value(5), Value("")), 0);
  EXPECT_LT(CompareValues(Value(5.5), Value("")), 0);
  EXPECT_LT(CompareValues(Value("zzz"), Value::Blob("")), 0);
  EXPECT_LT(CompareValues(Value("B"), Value("a")), 0);  // bytes, not case-folded
  EXPECT_LT(CompareValues(Value("a"), Value("ab")), 0);
  EXPECT_EQ(CompareValues(Value(1), Value(1.0)), 0);
  EXPECT_LT(CompareValues(Value(1), Value(1.5)), 0);
  EXPECT_GT(CompareValues(Value(2), Value(1.5)), 0);
  EXPECT_LT(CompareValues(Value(-2), Value(-1.5)), 0);
  // 2^53 + 1 is greater than the double 2^53, which it would round to.
  EXPECT_GT(CompareValues(Value(big), Value(static_cast<double>(int64_t{1} << 53))), 0);
  EXPECT_LT(CompareValues(Value(std::numeric_limits<int64_t>::max()), Value(1e19)), 0);
  EXPECT_GT(CompareValues(Value(std::numeric_limits<int64_t>::min()), Value(-1e19)), 0);
  EXPECT_LT(ComparePk({Value(1)}, {Value(1), Value()}), 0);
  EXPECT_GT(ComparePk({Value(2), Value()}, {Value(1), Value("z")}), 0);
  EXPECT_EQ(FormatPk({Value(5), Value("it's"), Value(), Value::Blob("\x01")}),
            "(5,'it''s',NULL,x'01')");
}

// SQLite's ORDER BY ... COLLATE BINARY over a mixed-type key agrees with
// ComparePk, also for a column declared COLLATE NOCASE.
TEST(PkOrderTest, MatchesSqlite) {
  engine::testing::TempDir dir;
  auto engine = engine::testing::OpenEngine(dir);
  ASSERT_NE(engine, nullptr);
  ASSERT_OK(engine
                ->Execute("CREATE TABLE t (a, b TEXT COLLATE NOCASE, v, PRIMARY KEY (a, b))")
                .status());
  const int64_t big = (int64_t{1} << 53) + 1;
  const std::vector<Value> as = {Value(),
                                 Value(-3),
                                 Value(-2.5),
                                 Value(0),
                                 Value(0.25),
                                 Value(7),
                                 Value(big),
                                 Value(static_cast<double>(int64_t{1} << 53)),
                                 Value(1e19),
                                 Value("A"),
                                 Value("a"),
                                 Value("ab"),
                                 Value("\xc3\xa9"),
                                 Value::Blob(""),
                                 Value::Blob(std::string("\0", 1)),
                                 Value::Blob("a")};
  const std::vector<Value> bs = {Value("B"), Value("a"), Value("b2")};
  std::vector<std::vector<Value>> keys;
  std::mt19937 rng(42);
  std::vector<std::pair<size_t, size_t>> order;
  for (size_t i = 0; i < as.size(); ++i) {
    for (size_t j = 0; j < bs.size(); ++j) order.emplace_back(i, j);
  }
  std::shuffle(order.begin(), order.end(), rng);
  for (auto [i, j] : order) {
    ASSERT_OK(engine->Execute("INSERT INTO t VALUES (?, ?, 1)", {as[i], bs[j]}).status());
  }
  auto rs = engine->Execute("SELECT a, b FROM t ORDER BY " + PkOrderBy({"a", "b"}));
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rows.size(), as.size() * bs.size());
  for (size_t k = 1; k < rs->rows.size(); ++k) {
    EXPECT_LT(ComparePk(rs->rows[k - 1], rs->rows[k]), 0)
        << FormatPk(rs->rows[k - 1]) << " then " << FormatPk(rs->rows[k]);
  }
  EXPECT_EQ(PkOrderBy({"a", "we\"ird"}), "\"a\" COLLATE BINARY, \"we\"\"ird\" COLLATE BINARY");
}

// A cursor over a vector.
class VectorCursor : public RowHashCursor {
 public:
  explicit VectorCursor(std::vector<KeyedHash> rows) : rows_(std::move(rows)) {}
  absl::StatusOr<const KeyedHash*> Next() override {
    if (next_ >= rows_.size()) return nullptr;
    return &rows_[next_++];
  }

 private:
  std::vector<KeyedHash> rows_;
  size_t next_ = 0;
};

KeyedHash Row(std::vector<Value> pk, uint64_t hash) { return KeyedHash{std::move(pk), hash}; }

TEST(TableDifferTest, Match) {
  VectorCursor source({Row({Value()}, 1), Row({Value(1)}, 2), Row({Value("x")}, 3)});
  TableDiffer d(&source, 10);
  ASSERT_OK(d.AddTarget({Value()}, 1));
  ASSERT_OK(d.AddTarget({Value(1)}, 2));
  ASSERT_OK(d.AddTarget({Value("x")}, 3));
  ASSERT_OK(d.Finish());
  EXPECT_TRUE(d.counts().match());
  EXPECT_EQ(d.counts().source_rows, 3);
  EXPECT_EQ(d.counts().target_rows, 3);
  EXPECT_EQ(d.counts().source_checksum, d.counts().target_checksum);
  EXPECT_TRUE(d.counts().examples.empty());
}

TEST(TableDifferTest, MissingExtraDifferent) {
  VectorCursor source({Row({Value(1)}, 10), Row({Value(2)}, 20), Row({Value(3)}, 30),
                       Row({Value(5)}, 50), Row({Value("a")}, 60), Row({Value::Blob("z")}, 70)});
  TableDiffer d(&source, 3);
  ASSERT_OK(d.AddTarget({Value(0)}, 0));    // extra
  ASSERT_OK(d.AddTarget({Value(1)}, 10));   // same
  ASSERT_OK(d.AddTarget({Value(3)}, 31));   // different; 2 missing
  ASSERT_OK(d.AddTarget({Value(4)}, 40));   // extra
  ASSERT_OK(d.AddTarget({Value("a")}, 60)); // same; 5 missing
  ASSERT_OK(d.Finish());                    // z missing
  const DiffCounts& c = d.counts();
  EXPECT_FALSE(c.match());
  EXPECT_EQ(c.source_rows, 6);
  EXPECT_EQ(c.target_rows, 5);
  EXPECT_EQ(c.missing_on_target, 3);
  EXPECT_EQ(c.extra_on_target, 2);
  EXPECT_EQ(c.different, 1);
  EXPECT_EQ(c.examples, (std::vector<std::string>{"extra pk=(0)", "missing pk=(2)",
                                                  "different pk=(3)"}));

  TableDiff total;
  AddToTableDiff(c, 4, &total);
  AddToTableDiff(c, 4, &total);
  EXPECT_EQ(total.source_rows(), 12);
  EXPECT_EQ(total.missing_on_target(), 6);
  EXPECT_EQ(total.examples_size(), 4);
  EXPECT_FALSE(total.match());
}

TEST(TableDifferTest, EmptySides) {
  VectorCursor empty({});
  TableDiffer extra(&empty, 10);
  ASSERT_OK(extra.AddTarget({Value(1)}, 1));
  ASSERT_OK(extra.Finish());
  EXPECT_EQ(extra.counts().extra_on_target, 1);
  EXPECT_EQ(extra.counts().examples, std::vector<std::string>{"extra pk=(1)"});

  VectorCursor some({Row({Value(1)}, 1), Row({Value(2)}, 2)});
  TableDiffer missing(&some, 1);
  ASSERT_OK(missing.Finish());
  EXPECT_EQ(missing.counts().missing_on_target, 2);
  EXPECT_EQ(missing.counts().examples.size(), 1u);

  VectorCursor none({});
  TableDiffer both(&none, 10);
  ASSERT_OK(both.Finish());
  EXPECT_TRUE(both.counts().match());
  TableDiff total;
  AddToTableDiff(both.counts(), 10, &total);
  EXPECT_TRUE(total.match());
}

TEST(TableDifferTest, OutOfOrderIsAnError) {
  VectorCursor source({Row({Value(2)}, 1), Row({Value(1)}, 1)});
  TableDiffer d(&source, 10);
  absl::Status s = d.AddTarget({Value(5)}, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;

  VectorCursor ok({});
  TableDiffer t(&ok, 10);
  ASSERT_OK(t.AddTarget({Value("b")}, 1));
  EXPECT_EQ(t.AddTarget({Value("a")}, 1).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace shale::tablet::vdiff
