// Differential test: the same random rows live in one "whole" SQLite database
// and, partitioned, in N shard databases. For each query, Merge() of the
// shards' results must equal what the whole database returns.

#include <algorithm>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "gate/merge/merge.h"
#include "gate/merge/test_db.h"
#include "gate/merge/test_values.h"
#include "gtest/gtest.h"

namespace shale::gate::merge {
namespace {

// t and e (always empty) have the columns id 0, g 1, v 2, x 3, name 4, w 5.
constexpr const char* kSchema[] = {"CREATE TABLE t(id INTEGER PRIMARY KEY, g, v, x, name, w)",
                                   "CREATE TABLE e(id INTEGER PRIMARY KEY, g, v, x, name, w)"};

struct DiffCase {
  std::string whole_sql;
  std::string shard_sql;  // empty: whole_sql
  MergeSpec spec;
  bool ordered = false;    // compare row order (the order is fully determined)
  bool same_names = true;  // the shard SQL names the visible columns as the whole SQL does
};

std::vector<DiffCase> Cases() {
  const std::string group_sql = "SELECT g, COUNT(*), SUM(v) FROM t GROUP BY g";
  const MergeSpec group_spec{
      .group_by = {0},
      .aggregates = {{.kind = AggKind::kCount, .column = 1}, {.kind = AggKind::kSum, .column = 2}},
      .aggregate = true};
  MergeSpec top_groups = group_spec;
  top_groups.order_by = {{.column = 1, .desc = true}, {.column = 0}};
  top_groups.limit = 3;
  const MergeSpec four_aggregates{.aggregates = {{.kind = AggKind::kCount, .column = 0},
                                                 {.kind = AggKind::kSum, .column = 1},
                                                 {.kind = AggKind::kMin, .column = 2},
                                                 {.kind = AggKind::kMax, .column = 3}},
                                  .aggregate = true};
  const MergeSpec avg{.aggregates = {{.kind = AggKind::kAvg, .column = 0, .count_column = 1}},
                      .aggregate = true,
                      .visible_columns = 1};
  const MergeSpec count_sum_total{.aggregates = {{.kind = AggKind::kCount, .column = 0},
                                                 {.kind = AggKind::kSum, .column = 1},
                                                 {.kind = AggKind::kTotal, .column = 2}},
                                  .aggregate = true};
  return {
      {"SELECT * FROM t ORDER BY id LIMIT 5 OFFSET 3", "SELECT * FROM t ORDER BY id LIMIT 8",
       MergeSpec{.order_by = {{.column = 0}}, .limit = 5, .offset = 3}, true},
      {"SELECT COUNT(*) FROM t", "",
       MergeSpec{.aggregates = {{.kind = AggKind::kCount, .column = 0}}, .aggregate = true}, true},
      {"SELECT COUNT(x), SUM(x), MIN(x), MAX(x) FROM t", "", four_aggregates, true},
      {"SELECT COUNT(v), SUM(v), MIN(v), MAX(v) FROM t", "", four_aggregates, true},
      {"SELECT COUNT(w), MIN(w), MAX(w), COUNT(w) FROM t", "",
       MergeSpec{.aggregates = {{.kind = AggKind::kCount, .column = 0},
                                {.kind = AggKind::kMin, .column = 1},
                                {.kind = AggKind::kMax, .column = 2},
                                {.kind = AggKind::kCount, .column = 3}},
                 .aggregate = true},
       true},
      {"SELECT COUNT(v), SUM(v), TOTAL(v) FROM t WHERE v IS NULL", "", count_sum_total, true},
      {group_sql, "", group_spec, true},
      {group_sql + " ORDER BY 2 DESC, g LIMIT 3", group_sql, top_groups, true},
      {"SELECT AVG(v) FROM t", "SELECT SUM(v), COUNT(v) FROM t", avg, true, false},
      {"SELECT g, AVG(v), MIN(v), MAX(v) FROM t GROUP BY g",
       "SELECT g, SUM(v), MIN(v), MAX(v), COUNT(v) FROM t GROUP BY g",
       MergeSpec{.group_by = {0},
                 .aggregates = {{.kind = AggKind::kAvg, .column = 1, .count_column = 4},
                                {.kind = AggKind::kMin, .column = 2},
                                {.kind = AggKind::kMax, .column = 3}},
                 .aggregate = true,
                 .visible_columns = 4},
       true, false},
      {"SELECT MIN(name), MAX(name) FROM t", "",
       MergeSpec{.aggregates = {{.kind = AggKind::kMin, .column = 0},
                                {.kind = AggKind::kMax, .column = 1}},
                 .aggregate = true},
       true},
      {"SELECT name, MAX(id) FROM t", "",
       MergeSpec{.aggregates = {{.kind = AggKind::kMax, .column = 1}}, .aggregate = true}, true},
      {"SELECT g, name, MIN(id) FROM t GROUP BY g", "",
       MergeSpec{.group_by = {0},
                 .aggregates = {{.kind = AggKind::kMin, .column = 2}},
                 .aggregate = true},
       true},
      {"SELECT DISTINCT g FROM t", "", MergeSpec{.distinct = true}},
      {"SELECT DISTINCT g FROM t ORDER BY g DESC", "",
       MergeSpec{.distinct = true, .order_by = {{.column = 0, .desc = true}}}, true},
      {"SELECT id, x FROM t ORDER BY x DESC, id", "",
       MergeSpec{.order_by = {{.column = 1, .desc = true}, {.column = 0}}}, true},
      {"SELECT id, w FROM t ORDER BY w, id", "",
       MergeSpec{.order_by = {{.column = 1}, {.column = 0}}}, true},
      {"SELECT id, name FROM t ORDER BY name NULLS LAST, id DESC LIMIT 20", "",
       MergeSpec{.order_by = {{.column = 1, .nulls_first = false}, {.column = 0, .desc = true}},
                 .limit = 20},
       true},
      {"SELECT name FROM t ORDER BY v DESC NULLS FIRST, id LIMIT 7 OFFSET 2",
       "SELECT name, v, id FROM t ORDER BY v DESC NULLS FIRST, id LIMIT 9",
       MergeSpec{.order_by = {{.column = 1, .desc = true, .nulls_first = true}, {.column = 2}},
                 .limit = 7,
                 .offset = 2,
                 .visible_columns = 1},
       true},
      {"SELECT g, x FROM t", "", MergeSpec{}},
      {"SELECT * FROM e ORDER BY id", "", MergeSpec{.order_by = {{.column = 0}}}, true},
      {"SELECT COUNT(*), SUM(v), TOTAL(v) FROM e", "", count_sum_total, true},
      {"SELECT AVG(v) FROM e", "SELECT SUM(v), COUNT(v) FROM e", avg, true, false},
      {"SELECT g, COUNT(*) FROM e GROUP BY g", "",
       MergeSpec{.group_by = {0},
                 .aggregates = {{.kind = AggKind::kCount, .column = 1}},
                 .aggregate = true},
       true},
  };
}

// A random row of t. Reals are multiples of 1/4 so that sums are exact in any
// order; w holds the values whose comparison is delicate.
class RowSource {
 public:
  explicit RowSource(uint32_t seed) : gen_(seed) {}

  std::vector<tablet::Value> Next(int64_t id) {
    return {Int(id), Pick(Groups()), V(), X(), Name(), Pick(Extremes())};
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen_); }
  const tablet::Value& Pick(const std::vector<tablet::Value>& values) {
    return values[Uniform(0, values.size() - 1)];
  }
  static const std::vector<tablet::Value>& Groups() {
    static const auto* groups = new std::vector<tablet::Value>{
        Null(), Int(-2), Int(0), Int(1), Int(3), Real(2.5), Real(-0.5), Text("a"), Text("B")};
    return *groups;
  }
  static const std::vector<tablet::Value>& Extremes() {
    static const auto* values =
        new std::vector<tablet::Value>{Null(),
                                       Int(9007199254740993),
                                       Real(9007199254740992.0),
                                       Int(std::numeric_limits<int64_t>::max()),
                                       Real(9223372036854775808.0),
                                       Int(std::numeric_limits<int64_t>::min()),
                                       Real(-9223372036854775808.0),
                                       Real(-1e300),
                                       Text("1"),
                                       Blob(std::string("\x00", 1))};
    return *values;
  }
  tablet::Value V() {
    const int kind = Uniform(0, 9);
    if (kind < 2) return Null();
    if (kind < 4) return Real(Uniform(-400, 400) / 4.0);
    return Int(Uniform(-1000, 1000));
  }
  tablet::Value X() {
    switch (Uniform(0, 7)) {
      case 0:
        return Null();
      case 1:
        return Text(Uniform(0, 1) ? "12" : "abc");
      case 2:
        return Blob(std::string(1, static_cast<char>(Uniform(0, 255))));
      case 3:
        return Real(Uniform(-40, 40) / 4.0);
      default:
        return Int(Uniform(-50, 50));
    }
  }
  tablet::Value Name() {
    static const char* const kNames[] = {"", "a", "ab", "abc", "B", "Zed", "\xc3\xa9", "a b"};
    if (Uniform(0, 6) == 0) return Null();
    std::string name = kNames[Uniform(0, 7)];
    if (Uniform(0, 1)) absl::StrAppend(&name, Uniform(0, 9));
    return Text(std::move(name));
  }

  std::mt19937 gen_;
};

class MergeSqliteTest : public testing::TestWithParam<std::tuple<int, uint32_t>> {
 protected:
  void SetUp() override {
    const auto [shard_count, seed] = GetParam();
    for (int s = 0; s < shard_count; ++s) shards_.push_back(std::make_unique<TestDb>());
    for (const char* sql : kSchema) ASSERT_NO_FATAL_FAILURE(ExecEverywhere(sql));
    RowSource source(seed);
    std::mt19937 placement(seed + 1);
    for (int64_t id = 1; id <= 150; ++id) {
      const std::vector<tablet::Value> row = source.Next(id);
      TestDb& shard = *shards_[std::uniform_int_distribution<int>(0, shard_count - 1)(placement)];
      for (TestDb* db : {&whole_, &shard}) {
        auto inserted = db->Query("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)", row);
        ASSERT_TRUE(inserted.ok()) << inserted.status();
      }
    }
  }

  void ExecEverywhere(const std::string& sql) {
    ASSERT_TRUE(whole_.Query(sql).ok()) << sql;
    for (auto& shard : shards_) ASSERT_TRUE(shard->Query(sql).ok()) << sql;
  }

  absl::StatusOr<tablet::QueryResult> Scatter(const std::string& sql, const MergeSpec& spec) {
    std::vector<tablet::QueryResult> results;
    for (auto& shard : shards_) {
      absl::StatusOr<tablet::QueryResult> result = shard->Query(sql);
      if (!result.ok()) return result.status();
      results.push_back(*std::move(result));
    }
    return Merge(std::move(results), spec);
  }

  TestDb whole_;
  std::vector<std::unique_ptr<TestDb>> shards_;
};

TEST_P(MergeSqliteTest, MergedEqualsWhole) {
  for (const DiffCase& c : Cases()) {
    SCOPED_TRACE(c.whole_sql);
    absl::StatusOr<tablet::QueryResult> want = whole_.Query(c.whole_sql);
    ASSERT_TRUE(want.ok()) << want.status();
    absl::StatusOr<tablet::QueryResult> got =
        Scatter(c.shard_sql.empty() ? c.whole_sql : c.shard_sql, c.spec);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->fields_size(), want->fields_size());
    for (int f = 0; c.same_names && f < want->fields_size(); ++f) {
      EXPECT_EQ(got->fields(f).name(), want->fields(f).name());
      EXPECT_EQ(got->fields(f).decl_type(), want->fields(f).decl_type());
    }
    std::vector<std::string> got_rows = RowStrings(*got);
    std::vector<std::string> want_rows = RowStrings(*want);
    if (!c.ordered) {
      std::sort(got_rows.begin(), got_rows.end());
      std::sort(want_rows.begin(), want_rows.end());
    }
    EXPECT_EQ(got_rows, want_rows);
  }
}

// SQLite fails the whole SUM with "integer overflow"; so must the merge, even
// though no shard overflows on its own.
TEST_P(MergeSqliteTest, SumOverflowFailsLikeSqlite) {
  ASSERT_NO_FATAL_FAILURE(ExecEverywhere("CREATE TABLE o(v)"));
  const std::string insert = "INSERT INTO o VALUES (4611686018427387904)";  // 2^62
  ASSERT_TRUE(whole_.Query(insert).ok());
  ASSERT_TRUE(whole_.Query(insert).ok());
  ASSERT_TRUE(shards_[0]->Query(insert).ok());
  ASSERT_TRUE(shards_[1]->Query(insert).ok());
  const std::string sql = "SELECT SUM(v) FROM o";
  absl::StatusOr<tablet::QueryResult> want = whole_.Query(sql);
  ASSERT_FALSE(want.ok());
  EXPECT_NE(want.status().message().find("integer overflow"), absl::string_view::npos);
  absl::StatusOr<tablet::QueryResult> got = Scatter(
      sql, MergeSpec{.aggregates = {{.kind = AggKind::kSum, .column = 0}}, .aggregate = true});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(SqlState(got.status()), "22003");
  EXPECT_EQ(got.status().message(), "integer overflow");
}

INSTANTIATE_TEST_SUITE_P(ShardsAndSeeds, MergeSqliteTest,
                         testing::Combine(testing::Values(2, 3), testing::Values(1u, 2u, 3u)));

}  // namespace
}  // namespace shale::gate::merge
