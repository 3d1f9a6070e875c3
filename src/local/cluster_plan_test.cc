#include "local/cluster_plan.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::local {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

LocalOptions Options() {
  LocalOptions o;
  o.data_dir = "/data/local";
  return o;
}

TEST(ShardNamesTest, EqualRanges) {
  EXPECT_THAT(ShardNames(1), ElementsAre("0"));
  EXPECT_THAT(ShardNames(2), ElementsAre("-80", "80-"));
  EXPECT_THAT(ShardNames(4), ElementsAre("-40", "40-80", "80-c0", "c0-"));
  EXPECT_THAT(ShardNames(3), ElementsAre("-5555555555555555", "5555555555555555-aaaaaaaaaaaaaaaa",
                                         "aaaaaaaaaaaaaaaa-"));
  EXPECT_EQ(ShardNames(64).size(), 64u);
  EXPECT_EQ(ShardNames(64)[1], "04-08");
}

TEST(ClusterPlanTest, DefaultLayout) {
  absl::StatusOr<ClusterPlan> plan = MakePlan(Options());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->topo_address, "sqlite:/data/local/topo.db");
  EXPECT_THAT(plan->cells, ElementsAre("zone1"));
  EXPECT_THAT(plan->shards, ElementsAre("-80", "80-"));
  std::vector<std::string> names;
  for (const PlannedProcess& p : plan->processes) names.push_back(p.name);
  EXPECT_THAT(names,
              ElementsAre("ctld", "tablet-zone1-100", "tablet-zone1-101", "tablet-zone1-102",
                          "tablet-zone1-200", "tablet-zone1-201", "tablet-zone1-202", "gate"));
  EXPECT_EQ(plan->pg_port(), 15432);
  EXPECT_EQ(plan->Find("gate")->ports.at("pg"), 15432);
  EXPECT_EQ(plan->Find("ctld")->ports.at("http"), 15000);
  EXPECT_EQ(plan->dashboard_url(), "http://127.0.0.1:15000/");
  EXPECT_EQ(plan->psql_command(), "psql -h 127.0.0.1 -p 15432 -U shale -d app");
  const PlannedProcess* t = plan->Find("tablet-zone1-201");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shard, "80-");
  EXPECT_EQ(t->ports.at("grpc"), 15100 + 3 * 4);
  EXPECT_EQ(t->log, "/data/local/logs/tablet-zone1-201.log");
  EXPECT_THAT(t->args, ::testing::Contains("/data/local/tablets/zone1-201"));
  EXPECT_EQ(plan->TabletsOf("80-").front()->alias, "zone1-200");
}

TEST(ClusterPlanTest, PortsAreDistinctAndFollowTheBase) {
  LocalOptions o = Options();
  o.shards = 16;
  o.replicas = 5;
  o.cells = 3;
  o.topo = "etcd";
  o.base_port = 20000;
  absl::StatusOr<ClusterPlan> plan = MakePlan(o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::set<int> ports;
  int count = 0;
  for (const PlannedProcess& p : plan->processes) {
    for (const auto& [name, port] : p.ports) {
      ports.insert(port);
      ++count;
      EXPECT_GE(port, 20000);
      EXPECT_LE(port, 20000 + kPgPortOffset);
    }
  }
  EXPECT_EQ(static_cast<int>(ports.size()), count);
  EXPECT_EQ(plan->processes.front().name, "etcd");
  EXPECT_EQ(plan->topo_address, "etcd://127.0.0.1:20002/shale");
  EXPECT_EQ(plan->Find("gate")->ports.at("pg"), 20432);
  // Tablets go round the cells; the primary-eligible one is in zone1.
  EXPECT_NE(plan->Find("tablet-zone1-100"), nullptr);
  EXPECT_NE(plan->Find("tablet-zone2-101"), nullptr);
  EXPECT_NE(plan->Find("tablet-zone3-102"), nullptr);
  EXPECT_NE(plan->Find("tablet-zone1-103"), nullptr);
}

TEST(ClusterPlanTest, ZooKeeper) {
  LocalOptions o = Options();
  o.topo = "zk";
  o.shards = 1;
  o.replicas = 0;
  absl::StatusOr<ClusterPlan> plan = MakePlan(o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->topo_address, "zk://127.0.0.1:15002/shale");
  EXPECT_EQ(plan->processes.size(), 4u);  // zookeeper, ctld, one tablet, gate
  EXPECT_EQ(plan->Find("tablet-zone1-100")->shard, "0");
}

TEST(ClusterPlanTest, RefusesBadOptions) {
  struct Case {
    void (*edit)(LocalOptions&);
    const char* message;
  };
  const Case cases[] = {
      {[](LocalOptions& o) { o.data_dir = ""; }, "--data-dir"},
      {[](LocalOptions& o) { o.shards = 0; }, "--shards 0"},
      {[](LocalOptions& o) { o.replicas = -1; }, "--replicas -1"},
      {[](LocalOptions& o) { o.cells = 0; }, "--cells 0"},
      {[](LocalOptions& o) { o.topo = "consul"; }, "--topo consul"},
      {[](LocalOptions& o) { o.keyspace = "a/b"; }, "--keyspace"},
      {[](LocalOptions& o) { o.base_port = 65200; }, "--base-port 65200"},
      {[](LocalOptions& o) {
         o.shards = 64;
         o.replicas = 2;
       },
       "at most 100"},
  };
  for (const Case& c : cases) {
    LocalOptions o = Options();
    c.edit(o);
    absl::StatusOr<ClusterPlan> plan = MakePlan(o);
    EXPECT_TRUE(absl::IsInvalidArgument(plan.status())) << c.message;
    EXPECT_THAT(plan.status().message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace shale::local
