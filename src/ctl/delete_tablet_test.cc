#include "ctl/delete_tablet.h"

#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"
#include "topo/server.h"

namespace shale::ctl {
namespace {

const topo::TabletAlias kPrimary{"zone1", 100};
const topo::TabletAlias kReplica{"zone1", 101};

class DeleteTabletTest : public ::testing::Test {
 protected:
  DeleteTabletTest() : ts_(topo::MemoryServer::NewStandaloneConn({})) {}

  // Shard app/0 in zone1 with a primary and a replica, both listed in the
  // cell's ShardReplication, as tablet startup leaves them.
  void SetUp() override {
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    ASSERT_TRUE(ts_.CreateKeyspace("app", {}).ok());
    ASSERT_TRUE(ts_.CreateShard("app", "0").ok());
    AddTablet(kPrimary, topodata::PRIMARY);
    AddTablet(kReplica, topodata::REPLICA);
    auto shard = ts_.UpdateShardFields("app", "0", [](topodata::Shard& s) {
      *s.mutable_primary_alias() = kPrimary.ToProto();
      s.set_primary_term(3);
      return absl::OkStatus();
    });
    ASSERT_TRUE(shard.ok()) << shard.status();
  }

  void AddTablet(const topo::TabletAlias& alias, topodata::TabletType type) {
    topodata::Tablet t;
    *t.mutable_alias() = alias.ToProto();
    t.set_keyspace("app");
    t.set_shard("0");
    t.set_type(type);
    ASSERT_TRUE(ts_.CreateTablet(t).ok());
    ASSERT_TRUE(ts_.UpdateShardReplication("zone1", "app", "0", alias, false).ok());
  }

  std::vector<topo::TabletAlias> Listed() {
    std::vector<topo::TabletAlias> out;
    auto r = ts_.GetShardReplication("zone1", "app", "0");
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return out;
    for (const auto& n : r->nodes()) out.push_back(topo::TabletAlias::FromProto(n.tablet_alias()));
    return out;
  }

  topo::Server ts_;
};

TEST_F(DeleteTabletTest, ReplicaLeavesRecordAndShardReplication) {
  auto r = DeleteTablet(ts_, kReplica, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->alias, "zone1-101");
  EXPECT_EQ(r->keyspace, "app");
  EXPECT_EQ(r->shard, "0");
  EXPECT_TRUE(r->removed_from_shard_replication);
  EXPECT_FALSE(r->cleared_shard_primary);
  EXPECT_TRUE(absl::IsNotFound(ts_.GetTablet(kReplica).status()));
  EXPECT_EQ(Listed(), std::vector<topo::TabletAlias>{kPrimary});
  EXPECT_TRUE(ts_.GetTablet(kPrimary).ok());
  // The shard lock was released.
  EXPECT_TRUE(ts_.LockShard("app", "0", "test", absl::Milliseconds(100)).ok());
}

TEST_F(DeleteTabletTest, PrimaryRefusedWithoutAllowPrimaryAndNothingChanges) {
  auto r = DeleteTablet(ts_, kPrimary, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("is the primary of shard app/0 (term 3)"),
            absl::string_view::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("--allow-primary"), absl::string_view::npos);
  EXPECT_TRUE(ts_.GetTablet(kPrimary).ok());
  EXPECT_EQ(Listed(), (std::vector<topo::TabletAlias>{kPrimary, kReplica}));
  EXPECT_EQ(topo::TabletAlias::FromProto(ts_.GetShard("app", "0")->record.primary_alias()),
            kPrimary);
}

TEST_F(DeleteTabletTest, PrimaryWithAllowPrimaryClearsShardPrimaryAndKeepsTerm) {
  DeleteTabletOptions options;
  options.allow_primary = true;
  auto r = DeleteTablet(ts_, kPrimary, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cleared_shard_primary);
  EXPECT_TRUE(r->removed_from_shard_replication);
  EXPECT_TRUE(absl::IsNotFound(ts_.GetTablet(kPrimary).status()));
  EXPECT_EQ(Listed(), std::vector<topo::TabletAlias>{kReplica});
  auto shard = ts_.GetShard("app", "0");
  ASSERT_TRUE(shard.ok());
  EXPECT_TRUE(shard->record.primary_alias().cell().empty());
  EXPECT_EQ(shard->record.primary_term(), 3);
}

TEST_F(DeleteTabletTest, RecordNotListedInShardReplication) {
  ASSERT_TRUE(ts_.UpdateShardReplication("zone1", "app", "0", kReplica, true).ok());
  auto r = DeleteTablet(ts_, kReplica, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->removed_from_shard_replication);
  EXPECT_TRUE(absl::IsNotFound(ts_.GetTablet(kReplica).status()));
  EXPECT_EQ(Listed(), std::vector<topo::TabletAlias>{kPrimary});
}

TEST_F(DeleteTabletTest, UnknownAliasOrCellIsNotFound) {
  auto r = DeleteTablet(ts_, {"zone1", 7}, {});
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("tablet zone1-7 not found"), absl::string_view::npos);
  EXPECT_TRUE(absl::IsNotFound(DeleteTablet(ts_, {"zone9", 100}, {}).status()));
  EXPECT_EQ(Listed(), (std::vector<topo::TabletAlias>{kPrimary, kReplica}));
}

TEST_F(DeleteTabletTest, ShardLockHeldElsewhereTimesOut) {
  auto held = ts_.LockShard("app", "0", "someone else", absl::Seconds(1));
  ASSERT_TRUE(held.ok());
  DeleteTabletOptions options;
  options.lock_timeout = absl::Milliseconds(100);
  auto r = DeleteTablet(ts_, kReplica, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_TRUE(ts_.GetTablet(kReplica).ok());
}

TEST_F(DeleteTabletTest, TabletOfAShardWithoutRecord) {
  topodata::Tablet t;
  *t.mutable_alias() = topo::TabletAlias{"zone1", 300}.ToProto();
  t.set_keyspace("app");
  t.set_shard("80-");
  ASSERT_TRUE(ts_.CreateTablet(t).ok());
  auto r = DeleteTablet(ts_, {"zone1", 300}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->removed_from_shard_replication);
  EXPECT_TRUE(absl::IsNotFound(ts_.GetTablet({"zone1", 300}).status()));
}

}  // namespace
}  // namespace shale::ctl
