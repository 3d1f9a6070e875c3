#include "gate/merge/row_order.h"

#include <optional>
#include <string>
#include <vector>

#include "gate/merge/test_values.h"
#include "gtest/gtest.h"

namespace shale::gate::merge {
namespace {

RowList MakeRows(const ValueRows& rows) {
  RowList list;
  for (const auto& values : rows) {
    auto row = std::make_unique<tablet::Row>();
    for (const tablet::Value& v : values) *row->add_values() = v;
    list.push_back(std::move(row));
  }
  return list;
}

std::vector<std::string> Strings(const RowList& rows) {
  std::vector<std::string> out;
  for (const RowPtr& row : rows) out.push_back(RowString(*row));
  return out;
}

struct OrderCase {
  std::string name;
  std::vector<OrderKey> keys;
  ValueRows rows;
  ValueRows want;  // after a stable sort
};

TEST(RowOrderTest, StableSortTable) {
  const std::vector<OrderKey> asc = {{.column = 0}};
  const std::vector<OrderKey> desc = {{.column = 0, .desc = true}};
  const ValueRows mixed = {{Text("t")}, {Int(2)}, {Null()}, {Real(1.5)}, {Blob("b")}};
  const std::vector<OrderCase> cases = {
      {"asc puts nulls first",
       asc,
       mixed,
       {{Null()}, {Real(1.5)}, {Int(2)}, {Text("t")}, {Blob("b")}}},
      {"desc puts nulls last",
       desc,
       mixed,
       {{Blob("b")}, {Text("t")}, {Int(2)}, {Real(1.5)}, {Null()}}},
      {"asc nulls last",
       {{.column = 0, .nulls_first = false}},
       mixed,
       {{Real(1.5)}, {Int(2)}, {Text("t")}, {Blob("b")}, {Null()}}},
      {"desc nulls first",
       {{.column = 0, .desc = true, .nulls_first = true}},
       mixed,
       {{Null()}, {Blob("b")}, {Text("t")}, {Int(2)}, {Real(1.5)}}},
      {"second key breaks ties",
       {{.column = 0}, {.column = 1, .desc = true}},
       {{Int(1), Text("a")}, {Int(0), Text("z")}, {Real(1.0), Text("b")}},
       {{Int(0), Text("z")}, {Real(1.0), Text("b")}, {Int(1), Text("a")}}},
      {"equal keys keep their order",
       asc,
       {{Int(1), Text("first")},
        {Null(), Text("n1")},
        {Real(1.0), Text("second")},
        {Null(), Text("n2")}},
       {{Null(), Text("n1")},
        {Null(), Text("n2")},
        {Int(1), Text("first")},
        {Real(1.0), Text("second")}}},
  };
  for (const OrderCase& c : cases) {
    SCOPED_TRACE(c.name);
    RowList rows = MakeRows(c.rows);
    StableSortRows(rows, RowOrder(c.keys));
    EXPECT_EQ(Strings(rows), RowStrings(c.want));
  }
}

struct MergeRunsCase {
  std::string name;
  std::vector<ValueRows> runs;
  std::optional<size_t> max_rows;
  ValueRows want;
};

TEST(RowOrderTest, MergeSortedRunsTable) {
  // Column 0 is the key, column 1 tells the rows apart.
  const std::vector<MergeRunsCase> cases = {
      {"no runs", {}, std::nullopt, {}},
      {"empty runs", {{}, {}}, std::nullopt, {}},
      {"interleaved",
       {{{Int(1), Text("a")}, {Int(4), Text("b")}},
        {{Int(2), Text("c")}, {Int(3), Text("d")}, {Int(5), Text("e")}}},
       std::nullopt,
       {{Int(1), Text("a")},
        {Int(2), Text("c")},
        {Int(3), Text("d")},
        {Int(4), Text("b")},
        {Int(5), Text("e")}}},
      {"ties keep run order",
       {{{Int(1), Text("r0a")}, {Int(1), Text("r0b")}},
        {{Int(1), Text("r1a")}},
        {{Int(0), Text("r2a")}, {Int(1), Text("r2b")}}},
       std::nullopt,
       {{Int(0), Text("r2a")},
        {Int(1), Text("r0a")},
        {Int(1), Text("r0b")},
        {Int(1), Text("r1a")},
        {Int(1), Text("r2b")}}},
      {"unsorted run is sorted first",
       {{{Int(3), Text("a")}, {Int(1), Text("b")}, {Int(3), Text("c")}}, {{Int(2), Text("d")}}},
       std::nullopt,
       {{Int(1), Text("b")}, {Int(2), Text("d")}, {Int(3), Text("a")}, {Int(3), Text("c")}}},
      {"stops at max_rows",
       {{{Int(1), Text("a")}, {Int(3), Text("b")}}, {{Int(2), Text("c")}, {Int(4), Text("d")}}},
       3,
       {{Int(1), Text("a")}, {Int(2), Text("c")}, {Int(3), Text("b")}}},
      {"max_rows above total", {{{Int(1), Text("a")}}}, 10, {{Int(1), Text("a")}}},
  };
  for (const MergeRunsCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<RowList> runs;
    for (const ValueRows& run : c.runs) runs.push_back(MakeRows(run));
    RowList merged = MergeSortedRuns(std::move(runs),
                                     RowOrder(std::vector<OrderKey>{{.column = 0}}), c.max_rows);
    EXPECT_EQ(Strings(merged), RowStrings(c.want));
  }
}

}  // namespace
}  // namespace shale::gate::merge
