#include "changes/event_json.h"

#include "gtest/gtest.h"

namespace shale::changes {
namespace {

void Add(google::protobuf::RepeatedPtrField<tablet::ColumnValue>* cols, const std::string& name,
         const tablet::Value& v) {
  auto* c = cols->Add();
  c->set_name(name);
  *c->mutable_value() = v;
}

TEST(EventJsonTest, EveryValueKindAndOp) {
  tablet::Value i, f, t, b, n;
  i.set_int64(7);
  f.set_float64(1.5);
  t.set_text("hé");
  b.set_blob(std::string("\x00\xff", 2));
  n.set_null(true);
  MergedEvent m;
  m.shard = "-80";
  m.position = "-80:3.1.0,80-:1.1.0";
  m.event.set_op(tablet::UPDATE);
  m.event.set_table("t");
  m.event.set_commit_ts_us(1000001);
  Add(m.event.mutable_pk(), "id", i);
  Add(m.event.mutable_before(), "f", f);
  Add(m.event.mutable_before(), "n", n);
  Add(m.event.mutable_after(), "s", t);
  Add(m.event.mutable_after(), "b", b);
  EXPECT_EQ(EventToJson(m).dump(),
            R"({"after":{"b":"AP8=","s":"hé"},"before":{"f":1.5,"n":null},)"
            R"("commit_ts":"1970-01-01T00:00:01.000001Z","commit_ts_us":1000001,"op":"update",)"
            R"("pk":{"id":7},"position":"-80:3.1.0,80-:1.1.0","shard":"-80","table":"t"})");
  m.event.set_op(tablet::DDL_STATEMENT);
  m.event.set_ddl("CREATE TABLE x (id INTEGER PRIMARY KEY)");
  nlohmann::json ddl = EventToJson(m);
  EXPECT_EQ(ddl["op"], "ddl");
  EXPECT_EQ(ddl["ddl"], "CREATE TABLE x (id INTEGER PRIMARY KEY)");
  EXPECT_FALSE(ddl.contains("pk"));
  m.event.set_op(tablet::HEARTBEAT_EVENT);
  nlohmann::json hb = EventToJson(m);
  EXPECT_EQ(hb["op"], "heartbeat");
  EXPECT_FALSE(hb.contains("table"));
  m.event.set_op(tablet::DELETE);
  nlohmann::json del = EventToJson(m);
  EXPECT_EQ(del["before"]["f"], 1.5);
  EXPECT_FALSE(del.contains("after"));
}

}  // namespace
}  // namespace shale::changes
