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

}  // namespace
}  // namespace shale::ctl
