// Merge() without aggregation: concatenation, ORDER BY, DISTINCT, OFFSET and
// LIMIT, hidden columns, fields and counters, and the checks on its inputs.

#include "gate/merge/merge.h"

#include <limits>
#include <string>
#include <vector>

#include "base/sqlstate.h"
#include "gate/merge/merge_case.h"
#include "gtest/gtest.h"

namespace shale::gate::merge {
namespace {

// Shards of (k, tag) rows; tags tell equal keys apart.
std::vector<tablet::QueryResult> KeyedShards(const std::vector<ValueRows>& shards) {
  std::vector<tablet::QueryResult> results;
  for (const ValueRows& rows : shards) results.push_back(MakeResult({"k", "tag"}, rows));
  return results;
}

const std::vector<tablet::QueryResult> kThreeShards = KeyedShards({
    {{Int(1), Text("a")}, {Int(4), Text("b")}},
    {},
    {{Int(2), Text("c")}, {Int(3), Text("d")}, {Int(4), Text("e")}},
});

TEST(MergeTest, ConcatenationAndSlicing) {
  const ValueRows all = {{Int(1), Text("a")},
                         {Int(4), Text("b")},
                         {Int(2), Text("c")},
                         {Int(3), Text("d")},
                         {Int(4), Text("e")}};
  const std::vector<MergeCase> cases = {
      {"shard order", kThreeShards, MergeSpec{}, all},
      {"offset and limit across shards",
       kThreeShards,
       MergeSpec{.limit = 2, .offset = 1},
       {{Int(4), Text("b")}, {Int(2), Text("c")}}},
      {"negative limit means none",
       kThreeShards,
       MergeSpec{.limit = -1, .offset = 3},
       {{Int(3), Text("d")}, {Int(4), Text("e")}}},
      {"negative offset counts as 0",
       kThreeShards,
       MergeSpec{.limit = 1, .offset = -4},
       {{Int(1), Text("a")}}},
      {"limit 0", kThreeShards, MergeSpec{.limit = 0}, {}},
      {"offset past the end", kThreeShards, MergeSpec{.offset = 9}, {}},
      {"huge limit",
       kThreeShards,
       MergeSpec{.limit = std::numeric_limits<int64_t>::max(), .offset = 4},
       {{Int(4), Text("e")}}},
      {"no shards", {}, MergeSpec{}, {}},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

TEST(MergeTest, OrderBy) {
  const std::vector<MergeCase> cases = {
      {"k-way merge, ties in shard order",
       kThreeShards,
       MergeSpec{.order_by = {{.column = 0}}},
       {{Int(1), Text("a")},
        {Int(2), Text("c")},
        {Int(3), Text("d")},
        {Int(4), Text("b")},
        {Int(4), Text("e")}}},
      {"offset and limit after ordering",
       kThreeShards,
       MergeSpec{.order_by = {{.column = 0}}, .limit = 2, .offset = 2},
       {{Int(3), Text("d")}, {Int(4), Text("b")}}},
      {"descending with nulls last",
       KeyedShards({{{Text("x"), Text("a")}, {Int(2), Text("b")}, {Null(), Text("c")}},
                    {{Real(2.5), Text("d")}, {Null(), Text("e")}}}),
       MergeSpec{.order_by = {{.column = 0, .desc = true}}},
       {{Text("x"), Text("a")},
        {Real(2.5), Text("d")},
        {Int(2), Text("b")},
        {Null(), Text("c")},
        {Null(), Text("e")}}},
      {"shard rows out of order are still merged right",
       KeyedShards({{{Int(3), Text("a")}, {Int(1), Text("b")}}, {{Int(2), Text("c")}}}),
       MergeSpec{.order_by = {{.column = 0}}},
       {{Int(1), Text("b")}, {Int(2), Text("c")}, {Int(3), Text("a")}}},
      {"hidden order key is dropped",
       KeyedShards({{{Int(2), Text("a")}}, {{Int(1), Text("b")}}}),
       MergeSpec{.order_by = {{.column = 0}}, .visible_columns = 1},
       {{Int(1)}, {Int(2)}}},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

TEST(MergeTest, Distinct) {
  const std::vector<MergeCase> cases = {
      {"first occurrences in order",
       KeyedShards({{{Int(2), Text("a")}, {Null(), Text("x")}, {Int(1), Text("a")}},
                    {{Real(2.0), Text("a")}, {Null(), Text("x")}, {Int(1), Text("b")}}}),
       MergeSpec{.distinct = true},
       {{Int(2), Text("a")}, {Null(), Text("x")}, {Int(1), Text("a")}, {Int(1), Text("b")}}},
      {"over the visible columns only",
       KeyedShards({{{Int(1), Text("a")}, {Int(2), Text("b")}}, {{Int(1), Text("c")}}}),
       MergeSpec{.distinct = true, .visible_columns = 1},
       {{Int(1)}, {Int(2)}}},
      {"limit counts distinct rows",
       KeyedShards({{{Int(1), Text("a")}, {Int(1), Text("a")}},
                    {{Int(1), Text("a")}, {Int(2), Text("a")}, {Int(3), Text("a")}}}),
       MergeSpec{.distinct = true, .order_by = {{.column = 0}}, .limit = 2},
       {{Int(1), Text("a")}, {Int(2), Text("a")}}},
      {"text and blob are distinct",
       KeyedShards({{{Text("a"), Null()}}, {{Blob("a"), Null()}}}),
       MergeSpec{.distinct = true},
       {{Text("a"), Null()}, {Blob("a"), Null()}}},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

TEST(MergeTest, InconsistentInputsAreInternalErrors) {
  const auto internal = absl::StatusCode::kInternal;
  const std::vector<MergeCase> cases = {
      {"shards disagree on fields",
       {MakeResult({"a", "b"}, {}), MakeResult({"a"}, {})},
       MergeSpec{},
       {},
       internal,
       "XX000"},
      {"row with too few values",
       {MakeResult({"a", "b"}, {{Int(1), Int(2)}}), MakeResult({}, {{Int(1)}})},
       MergeSpec{},
       {},
       internal,
       "XX000"},
      {"rows disagree without fields",
       {MakeResult({}, {{Int(1), Int(2)}}), MakeResult({}, {{Int(1)}})},
       MergeSpec{},
       {},
       internal,
       "XX000"},
      {"order by past the last column",
       kThreeShards,
       MergeSpec{.order_by = {{.column = 2}}},
       {},
       internal,
       "XX000"},
      {"group by a negative column",
       kThreeShards,
       MergeSpec{.group_by = {-1}, .aggregate = true},
       {},
       internal,
       "XX000"},
      {"aggregate past the last column",
       kThreeShards,
       MergeSpec{.aggregates = {{.kind = AggKind::kSum, .column = 5}}, .aggregate = true},
       {},
       internal,
       "XX000"},
      {"avg without its count column",
       kThreeShards,
       MergeSpec{.aggregates = {{.kind = AggKind::kAvg, .column = 0}}, .aggregate = true},
       {},
       internal,
       "XX000"},
      {"more visible columns than columns",
       kThreeShards,
       MergeSpec{.visible_columns = 3},
       {},
       internal,
       "XX000"},
      {"spec checked on empty results",
       {MakeResult({"a"}, {})},
       MergeSpec{.order_by = {{.column = 1}}},
       {},
       internal,
       "XX000"},
  };
  for (const MergeCase& c : cases) CheckMergeCase(c);
}

TEST(MergeTest, FieldsAndCounters) {
  std::vector<tablet::QueryResult> shards = {MakeResult({}, {}), MakeResult({"k", "tag"}, {}),
                                             MakeResult({"k", "tag"}, {{Int(1), Text("a")}})};
  shards[1].mutable_fields(0)->set_decl_type("INTEGER");
  shards[0].set_rows_affected(2);
  shards[2].set_rows_affected(3);
  absl::StatusOr<tablet::QueryResult> merged = Merge(shards, MergeSpec{.visible_columns = 1});
  ASSERT_TRUE(merged.ok()) << merged.status();
  ASSERT_EQ(merged->fields_size(), 1);
  EXPECT_EQ(merged->fields(0).name(), "k");
  EXPECT_EQ(merged->fields(0).decl_type(), "INTEGER");
  EXPECT_EQ(merged->rows_affected(), 5);
  EXPECT_EQ(RowStrings(*merged), RowStrings(ValueRows{{Int(1)}}));
}

TEST(MergeTest, RowsAreMovedOutOfTheInputs) {
  std::vector<tablet::QueryResult> shards = KeyedShards({{{Int(1), Text(std::string(64, 'x'))}}});
  const std::string* text = &shards[0].rows(0).values(1).text();
  absl::StatusOr<tablet::QueryResult> merged = Merge(std::move(shards), MergeSpec{});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(&merged->rows(0).values(1).text(), text);
}

}  // namespace
}  // namespace shale::gate::merge
