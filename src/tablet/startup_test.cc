// Tests of the startup rules (startup.h) against the memory topology.

#include "tablet/startup.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/test_topo.h"

namespace shale::tablet {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

const topo::TabletAlias kAlias{"zone1", 101};
const topo::TabletAlias kOther{"zone1", 202};

StartupOptions Options(topodata::TabletType init_type = topodata::UNKNOWN) {
  StartupOptions o;
  o.alias = kAlias;
  o.keyspace = "app";
  o.shard = "-80";
  o.init_type = init_type;
  o.hostname = "host1";
  o.port_map = {{"grpc", 7000}, {"http", 7001}};
  return o;
}

class StartupTest : public ::testing::Test {
 protected:
  absl::StatusOr<StartupResult> Start(const StartupOptions& o) {
    return ResolveStartup(topo_.ts, o, absl::FromUnixSeconds(1700000000));
  }
  TestTopo topo_;
};

TEST_F(StartupTest, NewRecordCreatesKeyspaceShardRecordAndReplication) {
  auto r = Start(Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->created);
  auto got = topo_.ts.GetTablet(kAlias);
  ASSERT_TRUE(got.ok());
  const topodata::Tablet& t = got->record;
  EXPECT_EQ(t.keyspace(), "app");
  EXPECT_EQ(t.shard(), "-80");
  EXPECT_EQ(t.db_name(), "app");
  EXPECT_EQ(t.type(), topodata::REPLICA);
  EXPECT_EQ(t.hostname(), "host1");
  EXPECT_EQ(t.port_map().at("grpc"), 7000);
  EXPECT_EQ(t.port_map().at("http"), 7001);
  EXPECT_EQ(t.key_range().end(), 0x8000000000000000ULL);
  auto repl = topo_.ts.GetShardReplication("zone1", "app", "-80");
  ASSERT_TRUE(repl.ok());
  ASSERT_EQ(repl->nodes_size(), 1);
  EXPECT_EQ(repl->nodes(0).tablet_alias().uid(), 101u);
}

TEST_F(StartupTest, NewRecordNeedsKeyspaceAndShard) {
  StartupOptions o = Options();
  o.shard.clear();
  auto r = Start(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("--keyspace and --shard are required"));
}

TEST_F(StartupTest, UnknownCellIsNamed) {
  StartupOptions o = Options();
  o.alias = {"nowhere", 1};
  auto r = Start(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("AddCellInfo nowhere"));
}

TEST_F(StartupTest, MismatchedFlagsNameTheField) {
  ASSERT_TRUE(Start(Options()).ok());
  struct Case {
    std::string field;
    StartupOptions options;
  };
  std::vector<Case> cases;
  cases.push_back({"keyspace", Options()});
  cases.back().options.keyspace = "other";
  cases.push_back({"shard", Options()});
  cases.back().options.shard = "80-";
  cases.push_back({"db-name", Options()});
  cases.back().options.db_name = "otherdb";
  for (const Case& c : cases) {
    auto r = Start(c.options);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << c.field;
    EXPECT_THAT(r.status().message(), HasSubstr("--" + c.field + " is")) << c.field;
  }
}

TEST_F(StartupTest, RecordedTypeIsResumedAndInitTypeNoted) {
  ASSERT_TRUE(Start(Options(topodata::REPLICA)).ok());
  ASSERT_TRUE(topo_.ts
                  .UpdateTabletFields(kAlias,
                                      [](topodata::Tablet& t) {
                                        t.set_type(topodata::RDONLY);
                                        return absl::OkStatus();
                                      })
                  .ok());
  StartupOptions o = Options(topodata::REPLICA);
  o.hostname = "host2";
  auto r = Start(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->created);
  EXPECT_EQ(r->record.type(), topodata::RDONLY);
  EXPECT_EQ(r->record.hostname(), "host2");
  EXPECT_THAT(r->notes, Contains(HasSubstr("--init-type REPLICA not used")));
  // Flags may be omitted on a restart.
  StartupOptions bare;
  bare.alias = kAlias;
  auto r2 = Start(bare);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->record.keyspace(), "app");
}

TEST_F(StartupTest, PrimaryClaimsAShardWithoutPrimary) {
  auto r = Start(Options(topodata::PRIMARY));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record.type(), topodata::PRIMARY);
  EXPECT_EQ(r->record.primary_term(), 1);
  auto shard = topo_.ts.GetShard("app", "-80");
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->record.primary_alias().uid(), 101u);
  EXPECT_EQ(shard->record.primary_term(), 1);
  EXPECT_EQ(shard->record.primary_term_start_time().seconds(), 1700000000);

  // A restart resumes the same term.
  auto again = Start(Options(topodata::PRIMARY));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->record.type(), topodata::PRIMARY);
  EXPECT_EQ(again->record.primary_term(), 1);
}

TEST_F(StartupTest, PrimaryWithNewerPrimaryInShardStartsAsReplica) {
  ASSERT_TRUE(Start(Options(topodata::PRIMARY)).ok());
  ASSERT_TRUE(topo_.ts
                  .UpdateShardFields("app", "-80",
                                     [](topodata::Shard& s) {
                                       *s.mutable_primary_alias() = kOther.ToProto();
                                       s.set_primary_term(2);
                                       return absl::OkStatus();
                                     })
                  .ok());
  auto r = Start(Options(topodata::PRIMARY));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record.type(), topodata::REPLICA);
  EXPECT_THAT(r->notes, Contains(HasSubstr("starting as REPLICA")));
  auto got = topo_.ts.GetTablet(kAlias);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.type(), topodata::REPLICA);
}

TEST_F(StartupTest, SecondNewPrimaryBecomesReplica) {
  ASSERT_TRUE(Start(Options(topodata::PRIMARY)).ok());
  StartupOptions o = Options(topodata::PRIMARY);
  o.alias = kOther;
  auto r = Start(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record.type(), topodata::REPLICA);
}

TEST_F(StartupTest, OutageIsUnavailable) {
  topo_.memory.SetUnavailable(true);
  auto r = Start(Options());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace shale::tablet
