#include "ctld/reparent_history.h"

#include "gtest/gtest.h"

namespace shale::ctld {
namespace {

ReparentEvent Event(const std::string& shard, ReparentEvent::Outcome outcome) {
  ReparentEvent e;
  e.time = absl::FromUnixSeconds(1700000000);
  e.keyspace = "app";
  e.shard = shard;
  e.outcome = outcome;
  e.old_primary = "zone1-101";
  e.old_term = 2;
  e.down_for = absl::Milliseconds(1500);
  return e;
}

TEST(ReparentHistoryTest, KeepsTheNewestUpToTheLimitNewestFirst) {
  ReparentHistory h(2);
  h.Add(Event("a", ReparentEvent::Outcome::kFailed));
  h.Add(Event("b", ReparentEvent::Outcome::kSkipped));
  h.Add(Event("c", ReparentEvent::Outcome::kSucceeded));
  std::vector<ReparentEvent> recent = h.Recent();
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].shard, "c");
  EXPECT_EQ(recent[1].shard, "b");
  nlohmann::json j = h.ToJson();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["outcome"], "succeeded");
  EXPECT_EQ(j[1]["outcome"], "skipped");
  EXPECT_EQ(j[0]["down_for_ms"], 1500.0);
  EXPECT_EQ(j[0]["time"], "2023-11-14T22:13:20+00:00");
}

}  // namespace
}  // namespace shale::ctld
