// BuildClusterJson: the /api/cluster document the dashboard page renders,
// from hand-made ClusterViews; and the page itself is self-contained.

#include "ctld/dashboard.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::ctld {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TabletView Tablet(const std::string& alias, const std::string& shard, const std::string& type) {
  TabletView t;
  t.alias = alias;
  t.keyspace = "app";
  t.shard = shard;
  t.type = type;
  t.address = "127.0.0.1:1";
  t.stream_up = true;
  t.serving = true;
  return t;
}

ClusterView TwoShards() {
  ClusterView v;
  v.now = absl::FromUnixSeconds(1700000000);
  v.keyspaces.push_back({"app", "id", "SEMI_SYNC"});
  // Given out of key-range order.
  v.shards.push_back({"app", "80-", 0x8000000000000000ull, "zone1-200", 3, absl::InfinitePast()});
  v.shards.push_back({"app", "-80", 0, "zone1-100", 2, absl::FromUnixSeconds(1699999000)});
  TabletView replica = Tablet("zone1-101", "-80", "REPLICA");
  replica.lag_seconds = 0.25;
  replica.log_position = 41;
  v.tablets.push_back(replica);
  TabletView primary = Tablet("zone1-100", "-80", "PRIMARY");
  primary.log_position = 42;
  primary.primary_term = 2;
  v.tablets.push_back(primary);
  TabletView down = Tablet("zone1-201", "80-", "REPLICA");
  down.stream_up = false;
  down.last_error = "connection refused";
  v.tablets.push_back(down);
  TabletView sick = Tablet("zone1-200", "80-", "PRIMARY");
  sick.health_error = "disk full";
  v.tablets.push_back(sick);
  return v;
}

TEST(BuildClusterJsonTest, KeyspacesShardsAndTabletsInOrder) {
  const nlohmann::json j = BuildClusterJson(TwoShards());
  EXPECT_EQ(j["generated_at"], "2023-11-14T22:13:20+00:00");
  ASSERT_EQ(j["keyspaces"].size(), 1u);
  const nlohmann::json& ks = j["keyspaces"][0];
  EXPECT_EQ(ks["name"], "app");
  EXPECT_EQ(ks["sharding_column"], "id");
  EXPECT_EQ(ks["durability"], "SEMI_SYNC");
  ASSERT_EQ(ks["shards"].size(), 2u);
  const nlohmann::json& low = ks["shards"][0];
  EXPECT_EQ(low["name"], "-80");
  EXPECT_EQ(low["primary"], "zone1-100");
  EXPECT_EQ(low["term"], 2);
  EXPECT_EQ(low["term_start"], "2023-11-14T21:56:40+00:00");
  EXPECT_EQ(ks["shards"][1]["name"], "80-");
  EXPECT_EQ(ks["shards"][1]["term_start"], "");

  // The primary first, then by alias; health, lag and position as given.
  ASSERT_EQ(low["tablets"].size(), 2u);
  const nlohmann::json& p = low["tablets"][0];
  EXPECT_EQ(p["alias"], "zone1-100");
  EXPECT_EQ(p["type"], "PRIMARY");
  EXPECT_EQ(p["is_primary"], true);
  EXPECT_EQ(p["status"], "serving");
  EXPECT_EQ(p["log_position"], 42);
  EXPECT_EQ(p["primary_term"], 2);
  const nlohmann::json& r = low["tablets"][1];
  EXPECT_EQ(r["alias"], "zone1-101");
  EXPECT_EQ(r["is_primary"], false);
  EXPECT_EQ(r["lag_seconds"], 0.25);
  EXPECT_EQ(r["log_position"], 41);
}

TEST(BuildClusterJsonTest, HealthStatusNamesWhatIsWrong) {
  const nlohmann::json high = BuildClusterJson(TwoShards())["keyspaces"][0]["shards"][1];
  ASSERT_EQ(high["tablets"].size(), 2u);
  EXPECT_EQ(high["tablets"][0]["alias"], "zone1-200");  // the primary, though not serving
  EXPECT_EQ(high["tablets"][0]["status"], "not serving");
  EXPECT_EQ(high["tablets"][0]["serving"], false);
  EXPECT_EQ(high["tablets"][0]["health_error"], "disk full");
  EXPECT_EQ(high["tablets"][1]["status"], "unreachable");
  EXPECT_EQ(high["tablets"][1]["last_error"], "connection refused");
}

TEST(BuildClusterJsonTest, TabletsAndShardsOutsideTheKnownTopology) {
  ClusterView v = TwoShards();
  v.shards.push_back({"orphan", "0", 0, "", 0, absl::InfinitePast()});  // no Keyspace record
  v.tablets.push_back(Tablet("zone1-900", "40-", "REPLICA"));           // no such shard
  const nlohmann::json j = BuildClusterJson(v);
  ASSERT_EQ(j["keyspaces"].size(), 2u);
  EXPECT_EQ(j["keyspaces"][1]["name"], "orphan");
  EXPECT_EQ(j["keyspaces"][1]["shards"][0]["primary"], "");
  EXPECT_EQ(j["keyspaces"][1]["shards"][0]["tablets"].size(), 0u);
  ASSERT_EQ(j["other_tablets"].size(), 1u);
  EXPECT_EQ(j["other_tablets"][0]["alias"], "zone1-900");
  EXPECT_EQ(j["other_tablets"][0]["shard"], "40-");
}

TEST(BuildClusterJsonTest, LeaderChangesAndFailovers) {
  ClusterView v = TwoShards();
  EXPECT_TRUE(BuildClusterJson(v)["leader"].is_null());
  topodata::CtldLeader leader;
  leader.set_holder("host:42");
  leader.set_grpc_address("127.0.0.1:15999");
  leader.set_http_address("127.0.0.1:8080");
  leader.set_term(7);
  leader.mutable_elected_at()->set_seconds(1700000000);
  v.leader = leader;
  v.self_holder = "host:43";
  v.primary_changes.push_back(
      {absl::FromUnixSeconds(1700000000), "app", "-80", "zone1-101", 1, "zone1-100", 2});
  ReparentEvent e;
  e.keyspace = "app";
  e.shard = "80-";
  e.outcome = ReparentEvent::Outcome::kSucceeded;
  e.old_primary = "zone1-201";
  e.new_primary = "zone1-200";
  e.new_term = 3;
  v.failovers.push_back(e);

  nlohmann::json j = BuildClusterJson(v);
  EXPECT_EQ(j["leader"]["holder"], "host:42");
  EXPECT_EQ(j["leader"]["grpc_address"], "127.0.0.1:15999");
  EXPECT_EQ(j["leader"]["http_address"], "127.0.0.1:8080");
  EXPECT_EQ(j["leader"]["term"], 7);
  EXPECT_EQ(j["leader"]["elected_at"], "2023-11-14T22:13:20+00:00");
  EXPECT_EQ(j["leader"]["resigned"], false);
  EXPECT_EQ(j["ctld"]["holder"], "host:43");
  EXPECT_EQ(j["ctld"]["is_leader"], false);
  EXPECT_EQ(j["failovers_kept"], false);
  ASSERT_EQ(j["primary_changes"].size(), 1u);
  EXPECT_EQ(j["primary_changes"][0]["old_primary"], "zone1-101");
  EXPECT_EQ(j["primary_changes"][0]["new_term"], 2);
  ASSERT_EQ(j["failovers"].size(), 1u);
  EXPECT_EQ(j["failovers"][0]["outcome"], "succeeded");
  EXPECT_EQ(j["failovers"][0]["new_primary"], "zone1-200");

  v.self_is_leader = true;
  v.leader->mutable_resigned_at()->set_seconds(1700000100);
  j = BuildClusterJson(v);
  EXPECT_EQ(j["failovers_kept"], true);
  EXPECT_EQ(j["leader"]["resigned"], true);
}

TEST(BuildClusterJsonTest, EmptyClusterAndTopologyError) {
  ClusterView v;
  v.topology_error = "topology unreachable";
  const nlohmann::json j = BuildClusterJson(v);
  EXPECT_EQ(j["keyspaces"], nlohmann::json::array());
  EXPECT_EQ(j["other_tablets"], nlohmann::json::array());
  EXPECT_EQ(j["topology_error"], "topology unreachable");
  EXPECT_EQ(j["generated_at"], "");
}

TEST(DashboardPageTest, SelfContainedAndRenderedFromTheApi) {
  const std::string page = DashboardPageHtml();
  EXPECT_THAT(page, HasSubstr("fetch(\"/api/cluster\""));
  EXPECT_THAT(page, HasSubstr("setInterval(refresh"));
  // Nothing loaded from elsewhere (the network may be offline).
  EXPECT_THAT(page, Not(HasSubstr(" src=")));
  EXPECT_THAT(page, Not(HasSubstr("<link")));
  EXPECT_THAT(page, Not(HasSubstr("@import")));
}

}  // namespace
}  // namespace shale::ctld
