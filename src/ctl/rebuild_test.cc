#include "ctl/rebuild.h"

#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"
#include "topo/server.h"

namespace shale::ctl {
namespace {

class RebuildTest : public ::testing::Test {
 protected:
  RebuildTest() : ts_(topo::MemoryServer::NewStandaloneConn({})) {}

  void SetUp() override {
    topodata::Keyspace ks;
    ks.set_sharding_column_name("id");
    ks.set_sharding_column_type(topodata::UINT64);
    ASSERT_TRUE(ts_.CreateKeyspace("app", ks).ok());
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    topodata::CellInfo zone2;
    zone2.set_region("eu");
    ASSERT_TRUE(ts_.AddCellInfo("zone2", zone2).ok());
  }

  topo::Server ts_;
};

TEST_F(RebuildTest, WritesEveryCellWithPartitionsPerType) {
  ASSERT_TRUE(ts_.CreateShard("app", "80-").ok());
  ASSERT_TRUE(ts_.CreateShard("app", "-80").ok());
  ASSERT_TRUE(RebuildKeyspaceGraph(ts_, "app", {}, false).ok());
  for (const char* cell : {"zone1", "zone2"}) {
    auto srv = ts_.GetSrvKeyspace(cell, "app");
    ASSERT_TRUE(srv.ok()) << srv.status();
    EXPECT_EQ(srv->sharding_column_name(), "id");
    ASSERT_EQ(srv->partitions_size(), 3);
    EXPECT_EQ(srv->partitions(0).served_type(), topodata::PRIMARY);
    ASSERT_EQ(srv->partitions(0).shard_references_size(), 2);
    EXPECT_EQ(srv->partitions(0).shard_references(0).name(), "-80");  // sorted by range
    EXPECT_EQ(srv->partitions(0).shard_references(1).name(), "80-");
  }
}

TEST_F(RebuildTest, RefusesGapUnlessPartialAndWritesNothing) {
  ASSERT_TRUE(ts_.CreateShard("app", "-40").ok());
  ASSERT_TRUE(ts_.CreateShard("app", "80-").ok());
  absl::Status s = RebuildKeyspaceGraph(ts_, "app", {}, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("gap between 40 and 80"), absl::string_view::npos) << s;
  EXPECT_TRUE(absl::IsNotFound(ts_.GetSrvKeyspace("zone1", "app").status()));

  ASSERT_TRUE(RebuildKeyspaceGraph(ts_, "app", {"zone2"}, true).ok());
  EXPECT_TRUE(absl::IsNotFound(ts_.GetSrvKeyspace("zone1", "app").status()));
  auto srv = ts_.GetSrvKeyspace("zone2", "app");
  ASSERT_TRUE(srv.ok());
  EXPECT_EQ(srv->partitions(0).shard_references_size(), 2);
}

TEST_F(RebuildTest, UnknownKeyspaceOrCell) {
  EXPECT_TRUE(absl::IsNotFound(RebuildKeyspaceGraph(ts_, "nope", {}, false)));
  ASSERT_TRUE(ts_.CreateShard("app", "0").ok());
  EXPECT_TRUE(absl::IsNotFound(RebuildKeyspaceGraph(ts_, "app", {"zone9"}, false)));
}

TEST_F(RebuildTest, ServedTypesPerCellShapeThePartitions) {
  ASSERT_TRUE(ts_.CreateShard("app", "0").ok());
  ASSERT_TRUE(ts_.UpdateShardFields("app", "0", [](topodata::Shard& s) {
                   s.clear_served_types();
                   s.add_served_types()->set_tablet_type(topodata::PRIMARY);
                   auto* rdonly = s.add_served_types();
                   rdonly->set_tablet_type(topodata::RDONLY);
                   rdonly->add_cells("zone2");
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(RebuildKeyspaceGraph(ts_, "app", {}, true).ok());
  auto z1 = ts_.GetSrvKeyspace("zone1", "app");
  auto z2 = ts_.GetSrvKeyspace("zone2", "app");
  ASSERT_TRUE(z1.ok() && z2.ok());
  EXPECT_EQ(z1->partitions(0).shard_references_size(), 1);  // PRIMARY
  EXPECT_EQ(z1->partitions(1).shard_references_size(), 0);  // REPLICA
  EXPECT_EQ(z1->partitions(2).shard_references_size(), 0);  // RDONLY only in zone2
  EXPECT_EQ(z2->partitions(2).shard_references_size(), 1);
}

TEST_F(RebuildTest, RebuildShardGraphUpdatesOneShard) {
  ASSERT_TRUE(ts_.CreateShard("app", "-80").ok());
  ASSERT_TRUE(ts_.CreateShard("app", "80-").ok());
  EXPECT_TRUE(absl::IsNotFound(RebuildShardGraph(ts_, "app", "-80", {})));
  ASSERT_TRUE(RebuildKeyspaceGraph(ts_, "app", {}, false).ok());
  ASSERT_TRUE(ts_.UpdateShardFields("app", "80-", [](topodata::Shard& s) {
                   s.clear_served_types();
                   s.add_served_types()->set_tablet_type(topodata::PRIMARY);
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(RebuildShardGraph(ts_, "app", "80-", {"zone1"}).ok());
  auto z1 = ts_.GetSrvKeyspace("zone1", "app");
  auto z2 = ts_.GetSrvKeyspace("zone2", "app");
  ASSERT_TRUE(z1.ok() && z2.ok());
  EXPECT_EQ(z1->partitions(0).shard_references_size(), 2);
  EXPECT_EQ(z1->partitions(1).shard_references_size(), 1);  // 80- no longer serves REPLICA
  EXPECT_EQ(z1->partitions(1).shard_references(0).name(), "-80");
  EXPECT_EQ(z2->partitions(1).shard_references_size(), 2);  // zone2 untouched
}

}  // namespace
}  // namespace shale::ctl
