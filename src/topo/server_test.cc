// Tests of the typed record API (topo::Server) over the memory backend.

#include "topo/server.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"
#include "topo/paths.h"

namespace shale::topo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServerTest : public ::testing::Test {
 protected:
  ServerTest()
      : ts_(global_.NewConn(), [this](absl::string_view address) -> absl::StatusOr<std::unique_ptr<Conn>> {
          if (address == "memory:cell2") return cell2_.NewConn();
          return absl::UnavailableError("no such server");
        }) {}

  void SetUp() override {
    topodata::Keyspace ks;
    ks.set_sharding_column_name("id");
    ASSERT_TRUE(ts_.CreateKeyspace("app", ks).ok());
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
  }

  topodata::Tablet MakeTablet(const std::string& cell, uint32_t uid) {
    topodata::Tablet t;
    *t.mutable_alias() = TabletAlias{cell, uid}.ToProto();
    t.set_keyspace("app");
    t.set_shard("-80");
    t.set_type(topodata::REPLICA);
    return t;
  }

  MemoryServer global_;
  MemoryServer cell2_;
  Server ts_;
};

TEST_F(ServerTest, KeyspaceLifecycle) {
  EXPECT_TRUE(absl::IsAlreadyExists(ts_.CreateKeyspace("app", {})));
  EXPECT_EQ(ts_.CreateKeyspace("bad-name", {}).code(), absl::StatusCode::kInvalidArgument);
  auto ki = ts_.GetKeyspace("app");
  ASSERT_TRUE(ki.ok());
  EXPECT_EQ(ki->record.sharding_column_name(), "id");
  auto missing = ts_.GetKeyspace("nope");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("keyspace nope not found"));

  auto updated = ts_.UpdateKeyspaceFields("app", [](topodata::Keyspace& k) {
    k.set_durability_policy(topodata::SEMI_SYNC);
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(ts_.GetKeyspace("app")->record.durability_policy(), topodata::SEMI_SYNC);
  // A failing mutation is passed through and writes nothing.
  auto refused = ts_.UpdateKeyspaceFields(
      "app", [](topodata::Keyspace&) { return absl::FailedPreconditionError("no"); });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(ts_.CreateKeyspace("logs", {}).ok());
  EXPECT_THAT(*ts_.ListKeyspaces(), ElementsAre("app", "logs"));
  ASSERT_TRUE(ts_.DeleteKeyspace("logs", false).ok());
  EXPECT_THAT(*ts_.ListKeyspaces(), ElementsAre("app"));
}

TEST_F(ServerTest, ShardsAreCanonicalRangesAndAnOverlapServesNothing) {
  ASSERT_TRUE(ts_.CreateShard("app", "80-").ok());
  ASSERT_TRUE(ts_.CreateShard("app", "-40").ok());
  ASSERT_TRUE(ts_.CreateShard("app", "40-80").ok());
  EXPECT_THAT(*ts_.ListShards("app"), ElementsAre("-40", "40-80", "80-"));
  EXPECT_TRUE(absl::IsAlreadyExists(ts_.CreateShard("app", "80-")));
  // An overlapping shard is a resharding target: created, serving nothing.
  ASSERT_TRUE(ts_.CreateShard("app", "60-c0").ok());
  EXPECT_EQ(ts_.GetShard("app", "60-c0")->record.served_types_size(), 0);
  ASSERT_TRUE(ts_.DeleteShard("app", "60-c0").ok());
  absl::Status noncanonical = ts_.CreateShard("app", "-4000");
  EXPECT_EQ(noncanonical.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(noncanonical.message(), HasSubstr("\"-40\""));
  EXPECT_TRUE(absl::IsNotFound(ts_.CreateShard("nope", "-80")));

  auto shard = ts_.GetShard("app", "40-80");
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->record.key_range().start(), 0x4000000000000000ULL);
  EXPECT_EQ(shard->record.served_types_size(), 3);

  EXPECT_TRUE(absl::IsFailedPrecondition(ts_.DeleteKeyspace("app", false)));
  ASSERT_TRUE(ts_.DeleteShard("app", "40-80").ok());
  EXPECT_THAT(*ts_.ListShards("app"), ElementsAre("-40", "80-"));
}

TEST_F(ServerTest, ConcurrentShardUpdatesLoseNothing) {
  ASSERT_TRUE(ts_.CreateShard("app", "0").ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 25; ++i) {
        auto r = ts_.UpdateShardFields("app", "0", [](topodata::Shard& s) {
          s.set_primary_term(s.primary_term() + 1);
          return absl::OkStatus();
        });
        ASSERT_TRUE(r.ok()) << r.status();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ts_.GetShard("app", "0")->record.primary_term(), 100);
}

TEST_F(ServerTest, TabletsAndReplicationGraphLiveInTheirCell) {
  EXPECT_TRUE(absl::IsNotFound(ts_.CreateTablet(MakeTablet("zone9", 1))));
  ASSERT_TRUE(ts_.CreateTablet(MakeTablet("zone1", 200)).ok());
  ASSERT_TRUE(ts_.CreateTablet(MakeTablet("zone1", 100)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(ts_.CreateTablet(MakeTablet("zone1", 100))));
  auto aliases = ts_.ListTabletAliases("zone1");
  ASSERT_TRUE(aliases.ok());
  ASSERT_EQ(aliases->size(), 2u);
  EXPECT_EQ((*aliases)[0].ToString(), "zone1-100");
  EXPECT_TRUE(global_.NewConn()->Get("/zone1/tablets/zone1-100/Tablet").ok());

  auto changed = ts_.UpdateTabletFields({"zone1", 100}, [](topodata::Tablet& t) {
    t.set_type(topodata::PRIMARY);
    return absl::OkStatus();
  });
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(ts_.GetTablet({"zone1", 100})->record.type(), topodata::PRIMARY);

  ASSERT_TRUE(ts_.UpdateShardReplication("zone1", "app", "-80", {"zone1", 100}, false).ok());
  ASSERT_TRUE(ts_.UpdateShardReplication("zone1", "app", "-80", {"zone1", 200}, false).ok());
  ASSERT_TRUE(ts_.UpdateShardReplication("zone1", "app", "-80", {"zone1", 100}, false).ok());
  EXPECT_EQ(ts_.GetShardReplication("zone1", "app", "-80")->nodes_size(), 2);
  ASSERT_TRUE(ts_.UpdateShardReplication("zone1", "app", "-80", {"zone1", 100}, true).ok());
  EXPECT_EQ(ts_.GetShardReplication("zone1", "app", "-80")->nodes(0).tablet_alias().uid(), 200u);

  ASSERT_TRUE(ts_.DeleteTablet({"zone1", 200}).ok());
  EXPECT_TRUE(absl::IsNotFound(ts_.GetTablet({"zone1", 200}).status()));
}

TEST_F(ServerTest, CellWithItsOwnServer) {
  topodata::CellInfo info;
  info.set_server_address("memory:cell2");
  info.set_root("/shale/zone2");
  ASSERT_TRUE(ts_.AddCellInfo("zone2", info).ok());
  ASSERT_TRUE(ts_.CreateTablet(MakeTablet("zone2", 7)).ok());
  EXPECT_TRUE(cell2_.NewConn()->Get("/shale/zone2/tablets/zone2-7/Tablet").ok());
  EXPECT_TRUE(absl::IsNotFound(global_.NewConn()->Get("/zone2/tablets/zone2-7/Tablet").status()));
  EXPECT_EQ(ts_.GetTablet({"zone2", 7})->record.keyspace(), "app");

  topodata::CellInfo broken;
  broken.set_server_address("memory:nowhere");
  ASSERT_TRUE(ts_.AddCellInfo("zone3", broken).ok());
  auto r = ts_.GetTablet({"zone3", 1});
  EXPECT_TRUE(absl::IsUnavailable(r.status()));
  EXPECT_THAT(r.status().message(), HasSubstr("cell zone3"));
  EXPECT_THAT(*ts_.ListCells(), ElementsAre("zone1", "zone2", "zone3"));
}

TEST_F(ServerTest, LocksRecordHolderAndExcludeOthers) {
  auto lock = ts_.LockKeyspace("app", "resharding", absl::Seconds(1));
  ASSERT_TRUE(lock.ok()) << lock.status();
  auto entries = global_.NewConn()->ListDir(paths::KeyspaceDir("app") + "/locks");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  auto raw = global_.NewConn()->Get(paths::KeyspaceDir("app") + "/locks/" + (*entries)[0].name);
  topodata::LockInfo info;
  ASSERT_TRUE(info.ParseFromString(raw->value));
  EXPECT_EQ(info.reason(), "resharding");
  EXPECT_THAT(info.holder(), HasSubstr(":"));
  EXPECT_EQ(info.lease_ttl().seconds(), 10);

  auto second = ts_.LockKeyspace("app", "ddl", absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(second.status()));
  EXPECT_THAT(second.status().message(), HasSubstr("keyspace app is locked"));
  ASSERT_TRUE((*lock)->Unlock().ok());
  EXPECT_TRUE(ts_.LockKeyspace("app", "ddl", absl::Milliseconds(50)).ok());

  EXPECT_TRUE(absl::IsNotFound(ts_.LockShard("app", "-80", "x", absl::Seconds(1)).status()));
  ASSERT_TRUE(ts_.CreateShard("app", "-80").ok());
  EXPECT_TRUE(ts_.LockShard("app", "-80", "x", absl::Seconds(1)).ok());
}

TEST_F(ServerTest, TableIdsAreUniqueUnderConcurrency) {
  std::vector<std::thread> threads;
  absl::Mutex mu;
  std::vector<int64_t> ids;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto id = ts_.AllocateTableId();
        ASSERT_TRUE(id.ok()) << id.status();
        absl::MutexLock l(&mu);
        ids.push_back(*id);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::sort(ids.begin(), ids.end());
  ASSERT_EQ(ids.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ids[i], i + 1);
}

TEST_F(ServerTest, RoutingPolicyDefaultAndValidation) {
  auto p = ts_.GetRoutingPolicy();
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->rules_size(), 3);
  EXPECT_EQ(p->rules(0).max_lag_seconds(), 30);
  EXPECT_EQ(p->rules(0).min_serving_tablets(), 2);
  EXPECT_EQ(p->never_above_lag_seconds(), 7200);
  EXPECT_EQ(ts_.SetRoutingPolicy({}).code(), absl::StatusCode::kInvalidArgument);
  topodata::RoutingPolicy custom;
  auto* rule = custom.add_rules();
  rule->set_scope(topodata::RoutingPolicy::ANY_CELL);
  rule->set_max_lag_seconds(5);
  ASSERT_TRUE(ts_.SetRoutingPolicy(custom).ok());
  EXPECT_EQ(ts_.GetRoutingPolicy()->rules(0).scope(), topodata::RoutingPolicy::ANY_CELL);
}

TEST_F(ServerTest, VSchemaDefaultsEmpty) {
  auto v = ts_.GetVSchema("app");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->tables().empty());
  topodata::VSchema vs;
  (*vs.mutable_tables())["users"].set_table_id(7);
  ASSERT_TRUE(ts_.SaveVSchema("app", vs).ok());
  EXPECT_EQ(ts_.GetVSchema("app")->tables().at("users").table_id(), 7);
  EXPECT_TRUE(absl::IsNotFound(ts_.GetVSchema("nope").status()));
}

TEST(TabletAliasTest, ParseAndFormat) {
  auto a = TabletAlias::Parse("zone1-100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->cell, "zone1");
  EXPECT_EQ(a->uid, 100u);
  EXPECT_EQ(a->ToString(), "zone1-100");
  for (const char* bad : {"", "zone1", "-1", "zone1-", "zone1-x", "zone1-+1", "zone1-99999999999"}) {
    EXPECT_EQ(TabletAlias::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace shale::topo
