// PlannedReparentShard and EmergencyReparentShard against fake tablets
// (fake_tablet.h) on the memory topology: candidate choice, fencing by term,
// the order of the tablet RPCs, and what is left unchanged on errors.

#include "ctl/reparent.h"

#include <algorithm>

#include "ctl/fake_tablet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"
#include "topo/server.h"

namespace shale::ctl {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using fakes::FakeTablet;

class ReparentTest : public ::testing::Test {
 protected:
  ReparentTest() : ts_(topo::MemoryServer::NewStandaloneConn({})), cluster_(&ts_) {}

  void SetUp() override {
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    ASSERT_TRUE(ts_.AddCellInfo("zone2", {}).ok());
    ASSERT_TRUE(ts_.CreateKeyspace("app", {}).ok());
    ASSERT_TRUE(ts_.CreateShard("app", "0").ok());
  }

  FakeTablet* Add(const std::string& alias, topodata::TabletType type, int64_t seq,
                  int64_t term) {
    FakeTablet* t = cluster_.Add(alias, "app", "0", type, seq, term);
    EXPECT_NE(t, nullptr) << alias;
    return t;
  }

  ReparentOptions Options(const std::string& new_primary = "") {
    ReparentOptions o;
    if (!new_primary.empty()) o.new_primary = *topo::TabletAlias::Parse(new_primary);
    o.rpc_timeout = absl::Seconds(5);
    o.demote_timeout = absl::Seconds(1);
    o.lock_timeout = absl::Seconds(5);
    o.progress = [this](const std::string& line) { progress_.push_back(line); };
    return o;
  }

  topodata::Shard Shard() {
    auto s = ts_.GetShard("app", "0");
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->record : topodata::Shard();
  }
  static std::string Primary(const topodata::Shard& s) {
    return s.primary_alias().cell().empty()
               ? ""
               : topo::TabletAlias::FromProto(s.primary_alias()).ToString();
  }
  static bool Called(const FakeTablet* t, const std::string& rpc) {
    auto calls = t->state().calls;
    return std::find(calls.begin(), calls.end(), rpc) != calls.end();
  }

  topo::Server ts_;
  fakes::FakeCluster cluster_;  // after ts_: the fakes go first
  std::vector<std::string> progress_;
};

TEST_F(ReparentTest, PlannedElectsTheFirstPrimaryMostCaughtUp) {
  FakeTablet* a = Add("zone1-101", topodata::REPLICA, 3, 0);
  FakeTablet* b = Add("zone1-102", topodata::REPLICA, 5, 0);
  FakeTablet* c = Add("zone2-201", topodata::REPLICA, 4, 0);
  auto r = PlannedReparentShard(ts_, "app", "0", Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->old_primary, "");
  EXPECT_EQ(r->new_primary, "zone1-102");
  EXPECT_EQ(r->new_term, 1);
  EXPECT_EQ(r->change_config.seq(), 6);
  EXPECT_EQ(Primary(Shard()), "zone1-102");
  EXPECT_EQ(Shard().primary_term(), 1);
  EXPECT_TRUE(Shard().has_primary_term_start_time());
  EXPECT_EQ(b->state().type, topodata::PRIMARY);
  for (FakeTablet* t : {a, c}) {
    EXPECT_EQ(t->state().type, topodata::REPLICA);
    EXPECT_TRUE(t->state().replicating);
    EXPECT_EQ(t->state().term, 1);
    EXPECT_EQ(t->state().seq, 6);  // followed the new primary
  }
  EXPECT_FALSE(progress_.empty());
  nlohmann::json j = r->ToJson();
  EXPECT_EQ(j["new_primary"], "zone1-102");
  EXPECT_EQ(j["operation"], "PlannedReparentShard");
  EXPECT_GE(j["steps"].size(), 4u) << j.dump();
}

TEST_F(ReparentTest, PlannedNamingTheCurrentPrimaryDoesNothing) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 3);
  Add("zone1-102", topodata::REPLICA, 10, 3);
  auto r = PlannedReparentShard(ts_, "app", "0", Options("zone1-101"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->changed);
  EXPECT_THAT(r->message, HasSubstr("already the primary"));
  EXPECT_FALSE(Called(p, "MigratePrimary"));
  EXPECT_EQ(Shard().primary_term(), 3);
}

TEST_F(ReparentTest, PlannedHandsOverPreferringThePrimarysCell) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 3);
  FakeTablet* near = Add("zone1-102", topodata::REPLICA, 10, 3);
  FakeTablet* far = Add("zone2-201", topodata::REPLICA, 10, 3);
  auto r = PlannedReparentShard(ts_, "app", "0", Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->old_primary, "zone1-101");
  EXPECT_EQ(r->old_term, 3);
  EXPECT_EQ(r->new_primary, "zone1-102");
  EXPECT_EQ(r->new_term, 4);
  EXPECT_EQ(r->stall_us, 1234);
  EXPECT_EQ(Primary(Shard()), "zone1-102");
  EXPECT_EQ(near->state().type, topodata::PRIMARY);
  EXPECT_EQ(p->state().type, topodata::REPLICA);
  // The candidate was checked before the hand-over; the third tablet follows.
  auto calls = near->state().calls;
  EXPECT_THAT(calls, Contains("WaitForPosition"));
  EXPECT_TRUE(Called(p, "PrimaryPosition"));
  EXPECT_TRUE(Called(far, "SetReplicationSource"));
  EXPECT_EQ(far->state().term, 4);
  EXPECT_FALSE(Called(p, "SetReplicationSource"));  // it follows by itself

  // And back, naming the tablet.
  auto back = PlannedReparentShard(ts_, "app", "0", Options("zone1-101"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->new_primary, "zone1-101");
  EXPECT_EQ(back->new_term, 5);
  EXPECT_EQ(p->state().type, topodata::PRIMARY);
  EXPECT_EQ(near->state().type, topodata::REPLICA);
}

TEST_F(ReparentTest, PlannedRefusesBadCandidates) {
  Add("zone1-101", topodata::PRIMARY, 10, 3);
  Add("zone1-102", topodata::RDONLY, 10, 3);
  FakeTablet* lagging = Add("zone1-103", topodata::REPLICA, 7, 3);
  auto rdonly = PlannedReparentShard(ts_, "app", "0", Options("zone1-102"));
  EXPECT_EQ(rdonly.status().code(), absl::StatusCode::kFailedPrecondition) << rdonly.status();
  EXPECT_THAT(rdonly.status().message(), HasSubstr("RDONLY"));
  auto unknown = PlannedReparentShard(ts_, "app", "0", Options("zone1-999"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
  auto behind = PlannedReparentShard(ts_, "app", "0", Options("zone1-103"));
  EXPECT_EQ(behind.status().code(), absl::StatusCode::kDeadlineExceeded) << behind.status();
  EXPECT_THAT(behind.status().message(), HasSubstr("did not catch up"));
  EXPECT_FALSE(Called(lagging, "PromoteReplica"));
  EXPECT_EQ(Primary(Shard()), "zone1-101");
  EXPECT_EQ(Shard().primary_term(), 3);
  // The lock was released every time.
  EXPECT_TRUE(ts_.LockShard("app", "0", "test", absl::Milliseconds(10)).ok());
}

TEST_F(ReparentTest, PlannedWithADeadPrimaryPointsToEmergency) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 3);
  Add("zone1-102", topodata::REPLICA, 10, 3);
  p->Kill();
  auto r = PlannedReparentShard(ts_, "app", "0", Options());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("EmergencyReparentShard"));
  EXPECT_EQ(Shard().primary_term(), 3);
}

TEST_F(ReparentTest, LockHeldElsewhereTimesOut) {
  Add("zone1-101", topodata::REPLICA, 0, 0);
  auto lock = ts_.LockShard("app", "0", "someone else", absl::Seconds(1));
  ASSERT_TRUE(lock.ok());
  ReparentOptions o = Options();
  o.lock_timeout = absl::Milliseconds(100);
  auto r = PlannedReparentShard(ts_, "app", "0", o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  auto e = EmergencyReparentShard(ts_, "app", "0", o);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDeadlineExceeded) << e.status();
  EXPECT_EQ(Primary(Shard()), "");
}

TEST_F(ReparentTest, EmergencyPicksTheMostAdvancedAndOthersFollow) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 2);
  FakeTablet* low = Add("zone1-102", topodata::REPLICA, 8, 2);
  FakeTablet* best = Add("zone1-103", topodata::REPLICA, 9, 2);
  FakeTablet* tie = Add("zone2-201", topodata::REPLICA, 9, 2);  // same seq, other cell
  p->Kill();
  auto r = EmergencyReparentShard(ts_, "app", "0", Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->old_primary, "zone1-101");
  EXPECT_EQ(r->new_primary, "zone1-103");
  EXPECT_EQ(r->new_term, 3);
  EXPECT_EQ(Primary(Shard()), "zone1-103");
  EXPECT_EQ(Shard().primary_term(), 3);
  EXPECT_EQ(best->state().type, topodata::PRIMARY);
  for (FakeTablet* t : {low, tie}) {
    EXPECT_EQ(t->state().seq, 10);  // followed the new primary (past its CHANGE_CONFIG)
    EXPECT_EQ(t->state().term, 3);
    EXPECT_TRUE(t->state().replicating);
  }
  // Every replica stopped replicating before the choice.
  EXPECT_TRUE(Called(low, "StopReplication"));
  EXPECT_THAT(r->warnings, Contains(HasSubstr("zone1-101 not repointed")));
}

TEST_F(ReparentTest, EmergencyCatchesTheChosenTabletUpFirst) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 2);
  FakeTablet* chosen = Add("zone1-102", topodata::REPLICA, 8, 2);
  Add("zone1-103", topodata::REPLICA, 9, 2);
  p->Kill();
  auto r = EmergencyReparentShard(ts_, "app", "0", Options("zone1-102"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->new_primary, "zone1-102");
  std::vector<std::string> calls = chosen->state().calls;
  std::vector<std::string> leadership;
  for (const std::string& c : calls) {
    if (c == "SetReplicationSource" || c == "WaitForPosition" || c == "PromoteReplica") {
      leadership.push_back(c);
    }
  }
  EXPECT_THAT(leadership, ElementsAre("SetReplicationSource", "WaitForPosition", "PromoteReplica"));
  EXPECT_EQ(chosen->state().seq, 10);  // 9 from zone1-103, then CHANGE_CONFIG
}

TEST_F(ReparentTest, EmergencyTermIsNewerThanAnyTermSeen) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 2);
  Add("zone1-102", topodata::REPLICA, 10, 5);  // a tablet that saw a newer term
  p->Kill();
  auto r = EmergencyReparentShard(ts_, "app", "0", Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->new_term, 6);
  EXPECT_EQ(Shard().primary_term(), 6);
}

TEST_F(ReparentTest, EmergencyDemotesAReachableOldPrimary) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 2);
  Add("zone1-102", topodata::REPLICA, 10, 2);
  auto r = EmergencyReparentShard(ts_, "app", "0", Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->new_primary, "zone1-102");
  EXPECT_TRUE(Called(p, "DemotePrimary"));
  EXPECT_EQ(p->state().type, topodata::REPLICA);
  EXPECT_TRUE(p->state().replicating);  // repointed at the new primary
  EXPECT_EQ(p->state().term, 3);
}

TEST_F(ReparentTest, EmergencySkipsWhenToldAndChangesNothing) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 2);
  FakeTablet* r2 = Add("zone1-102", topodata::REPLICA, 10, 2);
  ReparentOptions o = Options();
  o.skip_if = [](const topodata::Shard& s) -> std::string {
    return s.primary_term() == 2 ? "primary answers again" : "";
  };
  auto r = EmergencyReparentShard(ts_, "app", "0", o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->changed);
  EXPECT_EQ(r->skipped, "primary answers again");
  EXPECT_FALSE(Called(p, "DemotePrimary"));
  EXPECT_THAT(r2->state().calls, Not(Contains("StopReplication")));
  EXPECT_EQ(Shard().primary_term(), 2);
}

TEST_F(ReparentTest, EmergencyWithoutAReachableReplicaFails) {
  FakeTablet* p = Add("zone1-101", topodata::PRIMARY, 10, 2);
  FakeTablet* r2 = Add("zone1-102", topodata::REPLICA, 10, 2);
  Add("zone1-103", topodata::RDONLY, 10, 2);
  p->Kill();
  r2->Kill();
  auto r = EmergencyReparentShard(ts_, "app", "0", Options());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("zone1-102 unreachable"));
  EXPECT_EQ(Primary(Shard()), "zone1-101");
  EXPECT_EQ(Shard().primary_term(), 2);
  auto named = EmergencyReparentShard(ts_, "app", "0", Options("zone1-101"));
  EXPECT_EQ(named.status().code(), absl::StatusCode::kFailedPrecondition) << named.status();
}

}  // namespace
}  // namespace shale::ctl
