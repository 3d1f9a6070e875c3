#include "tablet/reshard/row_filter.h"

#include "gtest/gtest.h"
#include "key/key_range.h"
#include "key/vindex.h"

namespace shale::tablet::reshard {
namespace {

Value Int(int64_t v) {
  Value out;
  out.set_int64(v);
  return out;
}

topodata::KeyRange Range(const std::string& shard) {
  return key::KeyRange::Parse(shard)->ToProto();
}

// A value whose hash lands in -40, and one outside it.
int64_t ValueIn(const std::string& shard, bool in) {
  const key::KeyRange r = *key::KeyRange::Parse(shard);
  for (int64_t v = 1;; ++v) {
    if (r.Contains(key::HashInt64(v)) == in) return v;
  }
}

TableFilter Sharded(const std::string& column) {
  TableFilter f;
  f.set_table("t");
  f.set_column(column);
  f.set_column_type(topodata::UINT64);
  return f;
}

ColumnValue Col(const std::string& name, int64_t v) {
  ColumnValue c;
  c.set_name(name);
  *c.mutable_value() = Int(v);
  return c;
}

TEST(RowFilter, KeepsRowsInRange) {
  RowFilter f(Sharded("ID"), Range("-40"));
  auto idx = f.ColumnIndex({"x", "id"});
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(*idx, 1);
  google::protobuf::RepeatedPtrField<Value> row;
  *row.Add() = Int(0);
  *row.Add() = Int(ValueIn("-40", true));
  EXPECT_TRUE(*f.KeepRow(*idx, row));
  *row.Mutable(1) = Int(ValueIn("-40", false));
  EXPECT_FALSE(*f.KeepRow(*idx, row));
  Value null;
  null.set_null(true);
  *row.Mutable(1) = null;
  auto bad = f.KeepRow(*idx, row);
  EXPECT_TRUE(absl::IsFailedPrecondition(bad.status()));
  EXPECT_EQ(bad.status().message(), "table t: sharding column ID: NULL has no shard");
}

TEST(RowFilter, MissingColumnIsAnError) {
  RowFilter f(Sharded("cust"), Range("-40"));
  auto idx = f.ColumnIndex({"id", "name"});
  EXPECT_TRUE(absl::IsInvalidArgument(idx.status()));
  EXPECT_EQ(idx.status().message(), "table t has no sharding column cust");
}

TEST(RowFilter, ReferenceKeepsAll) {
  TableFilter t;
  t.set_table("r");
  RowFilter f(t, Range("-40"));
  EXPECT_EQ(*f.ColumnIndex({"a"}), -1);
  ChangeEvent e;
  e.set_op(DELETE);
  EXPECT_EQ(*f.ForEvent(e), EventVerdict::kKeep);
}

TEST(RowFilter, Events) {
  RowFilter f(Sharded("cust"), Range("-40"));
  ChangeEvent ins;
  ins.set_op(INSERT);
  ins.set_table("t");
  *ins.add_pk() = Col("id", 1);
  *ins.add_after() = Col("id", 1);
  *ins.add_after() = Col("cust", ValueIn("-40", true));
  EXPECT_EQ(*f.ForEvent(ins), EventVerdict::kKeep);
  ins.mutable_after(1)->mutable_value()->set_int64(ValueIn("-40", false));
  EXPECT_EQ(*f.ForEvent(ins), EventVerdict::kDrop);

  // An UPDATE that does not carry the sharding column: keep iff present.
  ChangeEvent upd;
  upd.set_op(UPDATE);
  upd.set_table("t");
  *upd.add_pk() = Col("id", 1);
  *upd.add_after() = Col("v", 5);
  EXPECT_EQ(*f.ForEvent(upd), EventVerdict::kKeepIfPresent);

  ChangeEvent del;
  del.set_op(DELETE);
  del.set_table("t");
  *del.add_pk() = Col("id", 1);
  *del.add_before() = Col("id", 1);
  *del.add_before() = Col("cust", ValueIn("-40", false));
  EXPECT_EQ(*f.ForEvent(del), EventVerdict::kDrop);
  del.clear_before();
  EXPECT_TRUE(absl::IsInvalidArgument(f.ForEvent(del).status()));
}

TEST(FilterForTable, FromVSchemaThenKeyspace) {
  topodata::VSchema v;
  auto& ref = (*v.mutable_tables())["countries"];
  ref.set_type(topodata::VSchema::REFERENCE);
  auto& orders = (*v.mutable_tables())["orders"];
  orders.add_column_vindexes()->set_column("customer_id");
  topodata::Keyspace k;
  k.set_sharding_column_name("id");
  k.set_sharding_column_type(topodata::UINT64);
  EXPECT_EQ(FilterForTable("countries", v, k)->column(), "");
  EXPECT_EQ(FilterForTable("orders", v, k)->column(), "customer_id");
  EXPECT_EQ(FilterForTable("other", v, k)->column(), "id");
  EXPECT_EQ(FilterForTable("other", v, k)->column_type(), topodata::UINT64);
  k.clear_sharding_column_name();
  EXPECT_TRUE(absl::IsNotFound(FilterForTable("other", v, k).status()));
}

}  // namespace
}  // namespace shale::tablet::reshard
