// End-to-end tests of `shale ctl PlannedReparentShard`,
// `EmergencyReparentShard` and `ReplicationStatus` with real tablet
// processes: the first primary of a new shard, planned hand-overs back and
// forth, and an emergency reparent after kill -9 of the primary. Row counts
// on every tablet after each change check that the replicas follow.

#include "gmock/gmock.h"
#include "tests/e2e/reparent_fixture.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

TEST_F(ReparentE2eTest, PlannedElectsTheFirstPrimaryOfANewShard) {
  StartShard({"zone1-101", "zone1-102", "zone1-103"});
  EXPECT_EQ(ShardPrimary(), "");
  CliResult r = Ctl({"PlannedReparentShard", "app/0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["changed"], true) << r.out;
  EXPECT_EQ(j["old_primary"], "");
  const std::string primary = j["new_primary"];
  EXPECT_EQ(ShardPrimary(), primary);
  EXPECT_EQ(Shard().primary_term(), j["new_term"].get<int64_t>());
  EXPECT_GE(Shard().primary_term(), 1);
  EXPECT_THAT(r.err, HasSubstr("PlannedReparentShard: write shard record"));  // progress
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary(primary); }));

  CreateTable(primary);
  InsertRows(primary, 0, 20);
  WaitRows({"zone1-101", "zone1-102", "zone1-103"}, 20);

  // The primary's record follows, and the replicas report their source.
  EXPECT_TRUE(WaitFor(absl::Seconds(20), [&] {
    auto rec = ts_->GetTablet(*topo::TabletAlias::Parse(primary));
    return rec.ok() && rec->record.type() == topodata::PRIMARY;
  }));
  const std::string replica = primary == "zone1-101" ? "zone1-102" : "zone1-101";
  nlohmann::json status = CtlJson({"ReplicationStatus", replica});
  EXPECT_EQ(status["is_primary"], false) << status.dump();
  EXPECT_EQ(status["term"], std::to_string(Shard().primary_term())) << status.dump();
  nlohmann::json pstatus = CtlJson({"ReplicationStatus", primary});
  EXPECT_EQ(pstatus["is_primary"], true) << pstatus.dump();

  // Electing again names the same primary: nothing to do.
  CliResult again = Ctl({"PlannedReparentShard", "app/0", "--new-primary", primary});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("already the primary"));
}

TEST_F(ReparentE2eTest, PlannedBackAndForth) {
  StartShard({"zone1-101", "zone1-102", "zone1-103"});
  const std::vector<std::string> all = {"zone1-101", "zone1-102", "zone1-103"};
  ASSERT_EQ(Ctl({"PlannedReparentShard", "app/0", "--new-primary", "zone1-101"}).exit_code, 0);
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary("zone1-101"); }));
  CreateTable("zone1-101");
  InsertRows("zone1-101", 0, 10);
  const int64_t term = Shard().primary_term();

  int rows = 10;
  for (const std::string to : {"zone1-102", "zone1-101", "zone1-103"}) {
    CliResult r = Ctl({"PlannedReparentShard", "app/0", "--new-primary", to});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_EQ(j["new_primary"], to);
    EXPECT_EQ(ShardPrimary(), to);
    std::cout << "PlannedReparentShard to " << to << ": took " << j["took_ms"]
              << " ms, write stall " << j["stall_us"] << " us\n";
    ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary(to); })) << to;
    for (const std::string& a : all) {
      if (a != to) {
        EXPECT_FALSE(IsServingPrimary(a)) << a << " is still a writable primary";
      }
    }
    InsertRows(to, rows, rows + 10);
    rows += 10;
    WaitRows(all, rows);
  }
  EXPECT_EQ(Shard().primary_term(), term + 3);

  // Bad candidates leave the shard as it is, with one error line.
  CliResult unknown = Ctl({"PlannedReparentShard", "app/0", "--new-primary", "zone1-999"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("error: zone1-999 is not a tablet of app/0"));
  CliResult bad = Ctl({"PlannedReparentShard", "app-0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("KEYSPACE/SHARD"));
  EXPECT_EQ(ShardPrimary(), "zone1-103");
  EXPECT_EQ(Shard().primary_term(), term + 3);
}

// Three tablets, zone1-101 primary with 15 rows; zone1-103 stopped
// replicating at 10 rows, so zone1-102 is the most advanced replica. Then
// kill -9 of the primary and EmergencyReparentShard.
class EmergencyE2eTest : public ReparentE2eTest {
 protected:
  void KillPrimaryAndReparent() {
    StartShard({"zone1-101", "zone1-102", "zone1-103"});
    ASSERT_EQ(Ctl({"PlannedReparentShard", "app/0", "--new-primary", "zone1-101"}).exit_code, 0);
    ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary("zone1-101"); }));
    CreateTable("zone1-101");
    InsertRows("zone1-101", 0, 10);
    WaitRows({"zone1-101", "zone1-102", "zone1-103"}, 10);
    CliResult stop = Ctl({"StopReplication", "zone1-103"});
    ASSERT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_THAT(stop.out, HasSubstr("\"running\": false"));
    InsertRows("zone1-101", 10, 15);
    WaitRows({"zone1-102"}, 15);
    EXPECT_EQ(RowCount("zone1-103"), 10);
    term_ = Shard().primary_term();

    Kill9("zone1-101");
    result_ = Ctl({"EmergencyReparentShard", "app/0"});
    ASSERT_EQ(result_.exit_code, 0) << result_.err;
  }

  int64_t term_ = 0;
  CliResult result_;
};

TEST_F(EmergencyE2eTest, AfterKill9PicksTheMostAdvancedReplica) {
  KillPrimaryAndReparent();
  nlohmann::json j = nlohmann::json::parse(result_.out, nullptr, false);
  EXPECT_EQ(j["new_primary"], "zone1-102") << result_.out;
  EXPECT_EQ(j["old_primary"], "zone1-101");
  EXPECT_EQ(ShardPrimary(), "zone1-102");
  EXPECT_EQ(Shard().primary_term(), term_ + 1);
  EXPECT_THAT(result_.err, HasSubstr("zone1-101 not repointed"));
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary("zone1-102"); }));
  InsertRows("zone1-102", 15, 20);
  WaitRows({"zone1-102"}, 20);
  // Repointed: ERS restarts its replication in the new term, and it follows
  // the Shard record, whose new primary its watch delivers shortly (under
  // load, after ERS has answered).
  nlohmann::json status;
  EXPECT_TRUE(WaitFor(absl::Seconds(20), [&] {
    status = CtlJson({"ReplicationStatus", "zone1-103"});
    return status["source"]["uid"] == 102 && status["running"] == true;
  })) << status.dump();
}

// A replica that lagged behind the others catches up from the new primary,
// and the killed old primary restarts as a REPLICA of it.
TEST_F(EmergencyE2eTest, TheLaggardAndTheOldPrimaryFollow) {
  KillPrimaryAndReparent();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary("zone1-102"); }));
  InsertRows("zone1-102", 15, 20);
  WaitRows({"zone1-102", "zone1-103"}, 20);

  // The old primary comes back as a replica of the new one (fencing by term).
  StartTablet("zone1-101", ReplicaFlags());
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    std::optional<tablet::TabletState> s = State("zone1-101");
    return s.has_value() && s->target().tablet_type() == topodata::REPLICA;
  }));
  EXPECT_FALSE(IsServingPrimary("zone1-101"));
  WaitRows({"zone1-101"}, 20);
  EXPECT_EQ(ShardPrimary(), "zone1-102");
}

TEST_F(ReparentE2eTest, EmergencyWithoutReplicasFailsWithOneLine) {
  StartShard({"zone1-101"});
  ASSERT_EQ(Ctl({"PlannedReparentShard", "app/0"}).exit_code, 0);
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary("zone1-101"); }));
  const int64_t term = Shard().primary_term();
  Kill9("zone1-101");
  CliResult r = Ctl({"EmergencyReparentShard", "app/0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: no reachable REPLICA of app/0"));
  EXPECT_EQ(ShardPrimary(), "zone1-101");
  EXPECT_EQ(Shard().primary_term(), term);
  CliResult planned = Ctl({"PlannedReparentShard", "app/0"});
  EXPECT_EQ(planned.exit_code, 1);
}

}  // namespace
}  // namespace shale::e2e
