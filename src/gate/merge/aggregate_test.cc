// Aggregation through Merge(): each AggKind, grouping and the bare-column rules.

#include <limits>
#include <vector>

#include "gate/merge/merge.h"
#include "gate/merge/merge_case.h"
#include "gtest/gtest.h"

namespace shale::gate::merge {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinInt = std::numeric_limits<int64_t>::min();

// One single-column shard result per value.
std::vector<tablet::QueryResult> OneValueShards(const std::vector<tablet::Value>& values) {
  std::vector<tablet::QueryResult> shards;
  for (const tablet::Value& v : values) shards.push_back(MakeResult({"c"}, {{v}}));
  return shards;
}

MergeSpec Single(AggKind kind) {
  return MergeSpec{.aggregates = {{.kind = kind, .column = 0}}, .aggregate = true};
}

TEST(AggregateTest, SingleAggregates) {
  const std::vector<MergeCase> cases = {
      {"count adds", OneValueShards({Int(3), Int(0), Int(5)}), Single(AggKind::kCount), {{Int(8)}}},
      {"sum of ints stays an int",
       OneValueShards({Int(5), Int(-7), Null()}),
       Single(AggKind::kSum),
       {{Int(-2)}}},
      {"sum with a real is a real",
       OneValueShards({Int(5), Real(2.5)}),
       Single(AggKind::kSum),
       {{Real(7.5)}}},
      {"sum of integral reals stays a real",
       OneValueShards({Real(1.0), Real(2.0)}),
       Single(AggKind::kSum),
       {{Real(3.0)}}},
      {"sum of only nulls is null",
       OneValueShards({Null(), Null()}),
       Single(AggKind::kSum),
       {{Null()}}},
      {"sum overflow",
       OneValueShards({Int(kMaxInt), Int(1)}),
       Single(AggKind::kSum),
       {},
       absl::StatusCode::kOutOfRange,
       "22003"},
      {"sum negative overflow",
       OneValueShards({Int(-1), Int(kMinInt)}),
       Single(AggKind::kSum),
       {},
       absl::StatusCode::kOutOfRange,
       "22003"},
      {"sum at the int limit",
       OneValueShards({Int(kMaxInt - 1), Int(1)}),
       Single(AggKind::kSum),
       {{Int(kMaxInt)}}},
      {"sum overflow with a real is a real",
       OneValueShards({Int(kMaxInt), Int(1), Real(0.5)}),
       Single(AggKind::kSum),
       {{Real(9223372036854775808.0)}}},
      {"total is a real", OneValueShards({Int(3), Null()}), Single(AggKind::kTotal), {{Real(3.0)}}},
      {"total of nothing is 0.0",
       OneValueShards({Real(0.0), Real(0.0)}),
       Single(AggKind::kTotal),
       {{Real(0.0)}}},
      {"min ignores nulls, compares across types",
       OneValueShards({Null(), Text("a"), Int(5), Real(4.5), Blob("")}),
       Single(AggKind::kMin),
       {{Real(4.5)}}},
      {"max: blob above text",
       OneValueShards({Null(), Text("a"), Int(5), Blob("")}),
       Single(AggKind::kMax),
       {{Blob("")}}},
      {"max: text memcmp",
       OneValueShards({Text("B"), Text("ab"), Text("a")}),
       Single(AggKind::kMax),
       {{Text("ab")}}},
      {"min of only nulls is null",
       OneValueShards({Null(), Null()}),
       Single(AggKind::kMin),
       {{Null()}}},
      {"min keeps the first of equals",
       OneValueShards({Real(1.0), Int(1)}),
       Single(AggKind::kMin),
       {{Real(1.0)}}},
      {"count holding text is a bug",
       OneValueShards({Text("3")}),
       Single(AggKind::kCount),
       {},
       absl::StatusCode::kInternal,
       "XX000"},
      {"count holding a real is a bug",
       OneValueShards({Real(3.0)}),
       Single(AggKind::kCount),
       {},
       absl::StatusCode::kInternal,
       "XX000"},
      {"sum holding a blob is a bug",
       OneValueShards({Int(1), Blob("x")}),
       Single(AggKind::kSum),
       {},
       absl::StatusCode::kInternal,
       "XX000"},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

TEST(AggregateTest, AverageAndEmptyAggregates) {
  const MergeSpec avg{.aggregates = {{.kind = AggKind::kAvg, .column = 0, .count_column = 1}},
                      .aggregate = true,
                      .visible_columns = 1};
  const MergeSpec empty_spec{.aggregates = {{.kind = AggKind::kCount, .column = 0},
                                            {.kind = AggKind::kSum, .column = 1},
                                            {.kind = AggKind::kMin, .column = 2},
                                            {.kind = AggKind::kTotal, .column = 3}},
                             .aggregate = true};
  const tablet::QueryResult empty_shard =
      MakeResult({"n", "s", "m", "t"}, {{Int(0), Null(), Null(), Real(0.0)}});
  const std::vector<MergeCase> cases = {
      {"avg is total sum over total count",
       {MakeResult({"s", "n"}, {{Int(10), Int(4)}}), MakeResult({"s", "n"}, {{Real(2.5), Int(1)}}),
        MakeResult({"s", "n"}, {{Null(), Int(0)}})},
       avg,
       {{Real(2.5)}}},
      {"avg of integers is a real",
       {MakeResult({"s", "n"}, {{Int(3), Int(2)}}), MakeResult({"s", "n"}, {{Int(1), Int(2)}})},
       avg,
       {{Real(1.0)}}},
      {"avg of no values is null",
       {MakeResult({"s", "n"}, {{Null(), Int(0)}}), MakeResult({"s", "n"}, {{Null(), Int(0)}})},
       avg,
       {{Null()}}},
      {"empty shards merge into one row",
       {empty_shard, empty_shard, empty_shard},
       empty_spec,
       {{Int(0), Null(), Null(), Real(0.0)}}},
      {"no rows in, no rows out",
       {MakeResult({"n"}, {}), MakeResult({"n"}, {})},
       Single(AggKind::kCount),
       {}},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

TEST(AggregateTest, GroupBy) {
  const MergeSpec by_key{
      .group_by = {0}, .aggregates = {{.kind = AggKind::kCount, .column = 1}}, .aggregate = true};
  const std::vector<std::string> kv = {"k", "n"};
  const std::vector<MergeCase> cases = {
      {"groups merge and come out in key order",
       {MakeResult(kv, {{Text("b"), Int(2)}, {Text("a"), Int(1)}, {Null(), Int(1)}}),
        MakeResult(kv, {{Text("a"), Int(3)}, {Int(1), Int(1)}, {Blob("z"), Int(4)}}),
        MakeResult(kv, {{Real(1.0), Int(2)}, {Null(), Int(5)}, {Real(0.5), Int(1)}})},
       by_key,
       {{Null(), Int(6)},
        {Real(0.5), Int(1)},
        {Int(1), Int(3)},
        {Text("a"), Int(4)},
        {Text("b"), Int(2)},
        {Blob("z"), Int(4)}}},
      {"order by an aggregate, then limit",
       {MakeResult(kv, {{Text("a"), Int(1)}, {Text("b"), Int(5)}, {Text("c"), Int(2)}}),
        MakeResult(kv, {{Text("a"), Int(3)}, {Text("c"), Int(1)}, {Text("d"), Int(3)}})},
       MergeSpec{.group_by = {0},
                 .aggregates = {{.kind = AggKind::kCount, .column = 1}},
                 .aggregate = true,
                 .order_by = {{.column = 1, .desc = true}, {.column = 0}},
                 .limit = 3},
       {{Text("b"), Int(5)}, {Text("a"), Int(4)}, {Text("c"), Int(3)}}},
      {"two key columns",
       {MakeResult({"a", "b", "n"}, {{Int(1), Text("x"), Int(1)}, {Int(1), Text("y"), Int(1)}}),
        MakeResult({"a", "b", "n"}, {{Int(1), Text("x"), Int(2)}, {Int(0), Text("y"), Int(1)}})},
       MergeSpec{.group_by = {0, 1},
                 .aggregates = {{.kind = AggKind::kCount, .column = 2}},
                 .aggregate = true},
       {{Int(0), Text("y"), Int(1)}, {Int(1), Text("x"), Int(3)}, {Int(1), Text("y"), Int(1)}}},
      {"group by only (no aggregates) keeps one row per key",
       {MakeResult({"k"}, {{Int(2)}, {Int(1)}}), MakeResult({"k"}, {{Int(1)}, {Int(3)}})},
       MergeSpec{.group_by = {0}, .aggregate = true},
       {{Int(1)}, {Int(2)}, {Int(3)}}},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

TEST(AggregateTest, BareColumns) {
  const std::vector<std::string> names = {"name", "a", "b"};
  const std::vector<MergeCase> cases = {
      {"bare column follows the only max",
       {MakeResult(names, {{Text("x"), Int(3), Int(1)}}),
        MakeResult(names, {{Text("y"), Int(7), Int(1)}}),
        MakeResult(names, {{Text("z"), Null(), Int(1)}})},
       MergeSpec{.aggregates = {{.kind = AggKind::kMax, .column = 1},
                                {.kind = AggKind::kCount, .column = 2}},
                 .aggregate = true},
       {{Text("y"), Int(7), Int(3)}}},
      {"bare column follows the only min, first of equals",
       {MakeResult(names, {{Text("x"), Int(3), Int(0)}}),
        MakeResult(names, {{Text("y"), Real(2.0), Int(0)}}),
        MakeResult(names, {{Text("z"), Int(2), Int(0)}})},
       MergeSpec{.aggregates = {{.kind = AggKind::kMin, .column = 1}}, .aggregate = true},
       {{Text("y"), Real(2.0), Int(0)}}},
      {"without min/max the first row's value",
       {MakeResult(names, {{Text("x"), Int(1), Int(0)}}),
        MakeResult(names, {{Text("y"), Int(2), Int(0)}})},
       MergeSpec{.aggregates = {{.kind = AggKind::kCount, .column = 1}}, .aggregate = true},
       {{Text("x"), Int(3), Int(0)}}},
      {"two min/max: the first row's value",
       {MakeResult(names, {{Text("x"), Int(1), Int(5)}}),
        MakeResult(names, {{Text("y"), Int(0), Int(9)}})},
       MergeSpec{.aggregates = {{.kind = AggKind::kMin, .column = 1},
                                {.kind = AggKind::kMax, .column = 2}},
                 .aggregate = true},
       {{Text("x"), Int(0), Int(9)}}},
      {"explicit any value",
       {MakeResult(names, {{Text("x"), Int(1), Int(5)}}),
        MakeResult(names, {{Text("y"), Int(2), Int(9)}})},
       MergeSpec{.aggregates = {{.kind = AggKind::kAnyValue, .column = 0},
                                {.kind = AggKind::kSum, .column = 1},
                                {.kind = AggKind::kAnyValue, .column = 2}},
                 .aggregate = true},
       {{Text("x"), Int(3), Int(5)}}},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

}  // namespace
}  // namespace shale::gate::merge
