// ClusterWatcher on the memory topology with fake tablets (ctl/fake_tablet.h):
// it shows keyspaces, shards and tablets with their health, keeps every
// change of a shard's primary, follows the leader record, and marks a killed
// tablet unreachable; the Dashboard adds leadership and failovers.

#include "ctld/cluster_watcher.h"

#include <memory>

#include "base/wait_for.h"
#include "ctl/fake_tablet.h"
#include "ctld/dashboard.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"
#include "topo/server.h"

namespace shale::ctld {
namespace {

using ctl::fakes::FakeCluster;
using ctl::fakes::FakeTablet;

const TabletView* Find(const ClusterView& v, const std::string& alias) {
  for (const TabletView& t : v.tablets) {
    if (t.alias == alias) return &t;
  }
  return nullptr;
}

class ClusterWatcherTest : public ::testing::Test {
 protected:
  ClusterWatcherTest() : ts_(server_.NewConn()), cluster_(&ts_) {}

  void SetUp() override {
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    topodata::Keyspace ks;
    ks.set_sharding_column_name("id");
    ASSERT_TRUE(ts_.CreateKeyspace("app", ks).ok());
    ASSERT_TRUE(ts_.CreateShard("app", "-80").ok());
    ASSERT_TRUE(ts_.CreateShard("app", "80-").ok());
  }

  static ClusterWatcherOptions Options() {
    ClusterWatcherOptions o;
    o.health.retry_initial = absl::Milliseconds(20);
    o.health.retry_max = absl::Milliseconds(200);
    return o;
  }

  topo::MemoryServer server_;
  topo::Server ts_;
  FakeCluster cluster_;
};

TEST_F(ClusterWatcherTest, ShowsShardsTabletsAndPrimaryChanges) {
  cluster_.Add("zone1-100", "app", "-80", topodata::PRIMARY, 10, 2);
  cluster_.Add("zone1-101", "app", "-80", topodata::REPLICA, 10, 2);
  ClusterWatcher w(&ts_, Options());
  w.Start();
  ASSERT_TRUE(w.WaitForFirstSync(absl::Seconds(10)).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    ClusterView v = w.View();
    const TabletView* p = Find(v, "zone1-100");
    const TabletView* r = Find(v, "zone1-101");
    return p != nullptr && r != nullptr && p->stream_up && r->stream_up;
  }));
  ClusterView v = w.View();
  ASSERT_EQ(v.keyspaces.size(), 1u);
  EXPECT_EQ(v.keyspaces[0].name, "app");
  EXPECT_EQ(v.keyspaces[0].sharding_column, "id");
  ASSERT_EQ(v.shards.size(), 2u);
  const ShardView& low = v.shards[0].name == "-80" ? v.shards[0] : v.shards[1];
  EXPECT_EQ(low.primary, "zone1-100");
  EXPECT_EQ(low.term, 2);
  EXPECT_EQ(Find(v, "zone1-100")->type, "PRIMARY");
  EXPECT_TRUE(Find(v, "zone1-100")->serving);
  EXPECT_EQ(Find(v, "zone1-101")->type, "REPLICA");
  EXPECT_EQ(Find(v, "zone1-101")->shard, "-80");
  EXPECT_TRUE(v.primary_changes.empty());  // the first read is no change

  // A new primary and term in the Shard record is kept as a change.
  ASSERT_TRUE(ts_.UpdateShardFields("app", "-80", [](topodata::Shard& s) {
                   s.mutable_primary_alias()->set_uid(101);
                   s.set_primary_term(3);
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return !w.View().primary_changes.empty(); }));
  const PrimaryChange c = w.View().primary_changes[0];
  EXPECT_EQ(c.keyspace, "app");
  EXPECT_EQ(c.shard, "-80");
  EXPECT_EQ(c.old_primary, "zone1-100");
  EXPECT_EQ(c.old_term, 2);
  EXPECT_EQ(c.new_primary, "zone1-101");
  EXPECT_EQ(c.new_term, 3);

  // A killed tablet shows unreachable, with the stream's error.
  cluster_.Find("zone1-101")->Kill();
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    ClusterView now = w.View();
    const TabletView* t = Find(now, "zone1-101");
    return t != nullptr && !t->stream_up && !t->last_error.empty();
  }));
  w.Stop();
}

TEST_F(ClusterWatcherTest, FollowsTheLeaderRecordAndFeedsTheDashboard) {
  ClusterWatcher w(&ts_, Options());
  w.Start();
  ASSERT_TRUE(w.WaitForFirstSync(absl::Seconds(10)).ok());
  EXPECT_FALSE(w.View().leader.has_value());
  topodata::CtldLeader leader;
  leader.set_holder("host:1");
  leader.set_term(4);
  ASSERT_TRUE(ts_.PutCtldLeader(leader, std::nullopt).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return w.View().leader.has_value(); }));
  EXPECT_EQ(w.View().leader->term(), 4);

  ReparentHistory history(10);
  ReparentEvent e;
  e.keyspace = "app";
  e.shard = "-80";
  history.Add(e);
  Dashboard dashboard(&w, nullptr, &history);
  const nlohmann::json j = BuildClusterJson(dashboard.View());
  EXPECT_EQ(j["leader"]["holder"], "host:1");
  EXPECT_EQ(j["failovers"].size(), 1u);
  ASSERT_EQ(j["keyspaces"].size(), 1u);
  EXPECT_EQ(j["keyspaces"][0]["shards"][0]["name"], "-80");
  EXPECT_EQ(j["keyspaces"][0]["shards"][1]["name"], "80-");
  w.Stop();
}

}  // namespace
}  // namespace shale::ctld
