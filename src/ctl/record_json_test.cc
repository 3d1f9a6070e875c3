#include "ctl/record_json.h"

#include "gtest/gtest.h"
#include "topodata.pb.h"

namespace shale::ctl {
namespace {

TEST(RecordJsonTest, DecodesByPath) {
  topodata::Shard shard;
  shard.mutable_key_range()->set_start(0x8000000000000000ULL);
  shard.set_primary_term(3);
  auto j = DecodeTopoValue("/global/keyspaces/app/shards/80-/Shard", shard.SerializeAsString());
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)["primary_term"], "3");  // int64 prints as a string in proto JSON
  EXPECT_EQ((*j)["key_range"]["start"], "80");  // hex, as shard names spell it
  EXPECT_EQ((*j)["key_range"]["end"], "");

  topodata::LockInfo lock;
  lock.set_reason("resharding");
  auto l = DecodeTopoValue("/global/keyspaces/app/locks/lock", lock.SerializeAsString());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)["reason"], "resharding");
}

TEST(RecordJsonTest, UnknownValuesAsTextOrHex) {
  EXPECT_EQ(*DecodeTopoValue("/global/meta/next_table_id", "42"), nlohmann::json("42"));
  auto hex = DecodeTopoValue("/x/blob", std::string("\x00\xff", 2));
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ((*hex)["hex"], "00ff");
}

TEST(RecordJsonTest, CorruptRecordIsDataLoss) {
  auto j = DecodeTopoValue("/global/keyspaces/app/Keyspace", "\xff\xff\xff");
  EXPECT_EQ(j.status().code(), absl::StatusCode::kDataLoss);
}

TEST(RecordJsonTest, JsonToRecordRoundTripAndErrors) {
  topodata::RoutingPolicy p;
  ASSERT_TRUE(JsonToRecord(R"({"rules":[{"scope":"SAME_REGION","max_lag_seconds":30}]})", &p).ok());
  EXPECT_EQ(p.rules(0).scope(), topodata::RoutingPolicy::SAME_REGION);
  EXPECT_EQ(RecordToJson(p)["rules"][0]["max_lag_seconds"], "30");
  topodata::RoutingPolicy bad;
  EXPECT_EQ(JsonToRecord("{not json", &bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonToRecord(R"({"no_such_field": 1})", &bad).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RecordJsonTest, JsonToRecordSaysWhereAndWhich) {
  struct Case {
    const char* json;
    const char* expect;  // the whole message
  } cases[] = {
      {"{\n  \"sharded\": true,\n  \"tables\": {\"t\": {\"table_id\": 1,}}\n}",
       "invalid VSchema JSON: parse error at line 3, column 34: syntax error while parsing object "
       "key - unexpected '}'; expected string literal"},
      {R"({"tables": {"t": {"tabel_id": 1}}})",
       R"(invalid VSchema JSON: unknown field tables["t"].tabel_id)"},
      {R"({"tables": {"t": {"column_vindexes": [{}, {"colum": "id"}]}}})",
       R"(invalid VSchema JSON: unknown field tables["t"].column_vindexes[1].colum)"},
      {R"({"vindexes": {"h": {"type": "hash"}}, "shardd": true})",
       "invalid VSchema JSON: unknown field shardd"},
  };
  for (const Case& c : cases) {
    topodata::VSchema v;
    absl::Status s = JsonToRecord(c.json, &v);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(s.message(), c.expect) << c.json;
  }
  topodata::VSchema v;  // JSON (lowerCamel) names are fields too
  ASSERT_TRUE(JsonToRecord(R"({"tables": {"t": {"tableId": "4", "columnVindexes": []}}})", &v).ok());
  EXPECT_EQ(v.tables().at("t").table_id(), 4);
}

}  // namespace
}  // namespace shale::ctl
