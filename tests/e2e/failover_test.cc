// End-to-end tests of `shale ctld` with real tablet processes: a primary
// killed with kill -9 is replaced (the time from the kill to the new primary
// serving is printed), and the status port shows and counts what happened;
// of two ctlds one leads and only it acts; kill -9 of the leading ctld hands
// the leadership (and the failover duty) to the standby.

#include <csignal>
#include <thread>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "tests/e2e/http_get.h"
#include "tests/e2e/reparent_fixture.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

nlohmann::json Failover(int port) { return HttpGetJson(port, "/debug/failover"); }

// The ctld watches primary and has heard from it.
bool Watching(int port, const std::string& primary) {
  nlohmann::json j = Failover(port);
  if (j.is_discarded() || j["shards"].size() != 1) return false;
  const nlohmann::json& s = j["shards"][0];
  return s["primary"] == primary && s["health"]["health_messages"].get<int64_t>() > 0 &&
         s["failover_running"] == false;
}

int Succeeded(int port) {
  int n = 0;
  const nlohmann::json status = Failover(port);  // the loop below must not range over a temporary
  for (const auto& e : status["history"]) n += e["outcome"] == "succeeded" ? 1 : 0;
  return n;
}

class FailoverE2eTest : public ReparentE2eTest {
 protected:
  // Three replicas of app/0, zone1-101 elected primary, 10 rows everywhere.
  void StartClusterWithPrimary() {
    StartShard(all_);
    ASSERT_EQ(Ctl({"PlannedReparentShard", "app/0", "--new-primary", "zone1-101"}).exit_code, 0);
    ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return IsServingPrimary("zone1-101"); }));
    CreateTable("zone1-101");
    InsertRows("zone1-101", 0, 10);
    WaitRows(all_, 10);
  }

  // Kills the primary and returns the time until another tablet is the
  // Shard record's primary and serves writes; "" new primary on timeout.
  std::pair<std::string, absl::Duration> KillPrimaryAndWait() {
    const absl::Time killed = absl::Now();
    Kill9("zone1-101");
    std::string now_primary;
    const bool ok = WaitFor(absl::Seconds(30), [&] {
      now_primary = ShardPrimary();
      return now_primary != "zone1-101" && !now_primary.empty() && IsServingPrimary(now_primary);
    });
    const absl::Duration took = absl::Now() - killed;
    return {ok ? now_primary : "", took};
  }

  const std::vector<std::string> all_ = {"zone1-101", "zone1-102", "zone1-103"};
};

TEST_F(FailoverE2eTest, CtldReplacesAKilledPrimary) {
  StartClusterWithPrimary();
  const int64_t term = Shard().primary_term();
  Ctld ctld = StartCtld("1.5s");
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Watching(ctld.http_port, "zone1-101"); }))
      << HttpGet(ctld.http_port, "/debug/failover");

  const std::pair<std::string, absl::Duration> killed = KillPrimaryAndWait();
  const std::string primary = killed.first;  // not a structured binding: lambdas capture it
  const absl::Duration took = killed.second;
  ASSERT_FALSE(primary.empty()) << HttpGet(ctld.http_port, "/debug/failover");
  std::cout << "ctld failover: kill -9 of the primary to " << primary << " serving writes took "
            << absl::ToInt64Milliseconds(took) << " ms (--failover-after 1.5s)\n";
  RecordProperty("failover_ms", static_cast<int>(absl::ToInt64Milliseconds(took)));
  EXPECT_GE(took, absl::Milliseconds(1500));  // not before --failover-after
  EXPECT_EQ(Shard().primary_term(), term + 1);

  InsertRows(primary, 10, 20);
  std::vector<std::string> alive;
  for (const std::string& a : all_) {
    if (a != "zone1-101") alive.push_back(a);
  }
  WaitRows(alive, 20);

  // The status port tells what happened, and counts it.
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return Watching(ctld.http_port, primary); }));
  nlohmann::json history = Failover(ctld.http_port)["history"];
  ASSERT_EQ(history.size(), 1u) << history.dump();
  EXPECT_EQ(history[0]["outcome"], "succeeded");
  EXPECT_EQ(history[0]["old_primary"], "zone1-101");
  EXPECT_EQ(history[0]["new_primary"], primary);
  EXPECT_THAT(history[0]["trigger"].get<std::string>(), HasSubstr("zone1-101 unreachable"));
  EXPECT_THAT(HttpGet(ctld.http_port, "/metrics"),
              HasSubstr("shale_ctld_failovers_total{outcome=\"succeeded\"} 1"));
  EXPECT_THAT(HttpGet(ctld.http_port, "/debug/status"), HasSubstr("Recent failovers"));

  // SIGTERM stops it cleanly.
  ASSERT_TRUE(ctld.process->Kill(SIGTERM).ok());
  absl::StatusOr<int> code = ctld.process->WaitFor(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

// A primary stopped with SIGSTOP until ctld has replaced it takes no write
// once it runs again (its PrimaryFence sees the pause and asks the Shard
// record first): a write and a GetState sent to it while it was stopped, and
// so served the moment it runs, get a refusal and a read-only state. It then
// rejoins as a replica without the refused row.
TEST_F(FailoverE2eTest, APrimaryPausedAndReplacedRefusesWritesAfterSigcont) {
  StartClusterWithPrimary();
  Ctld ctld = StartCtld("1.5s");
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Watching(ctld.http_port, "zone1-101"); }));
  std::unique_ptr<tablet::TabletClient> old = Client("zone1-101");
  ASSERT_NE(old, nullptr);
  ASSERT_TRUE(old->Call(old->manager(), &tablet::TabletManager::Stub::Ping, tablet::PingRequest(),
                        absl::Seconds(5))
                  .ok());  // connected before the pause

  Subprocess& p = *tablets_.at("zone1-101");
  ASSERT_TRUE(p.Kill(SIGSTOP).ok());
  std::string now_primary;
  const bool replaced = WaitFor(absl::Seconds(30), [&] {
    now_primary = ShardPrimary();
    return now_primary != "zone1-101" && !now_primary.empty() && IsServingPrimary(now_primary);
  });
  absl::StatusOr<tablet::ExecuteResponse> write;
  absl::StatusOr<tablet::GetStateResponse> state;
  std::thread writer([&] {
    tablet::ExecuteRequest req;
    *req.mutable_target() = MakeTarget("app", "0", topodata::PRIMARY);
    req.set_sql("INSERT INTO t VALUES (1000, 'written to the old primary')");
    write = old->Call(old->query(), &tablet::Query::Stub::Execute, req, absl::Seconds(20));
  });
  std::thread asker([&] {
    state = old->Call(old->manager(), &tablet::TabletManager::Stub::GetState,
                      tablet::GetStateRequest(), absl::Seconds(20));
  });
  ASSERT_TRUE(p.Kill(SIGCONT).ok());
  writer.join();
  asker.join();
  ASSERT_TRUE(replaced) << HttpGet(ctld.http_port, "/debug/failover");

  EXPECT_TRUE(absl::IsFailedPrecondition(write.status())) << write.status();
  std::cout << "write sent to the paused old primary: " << write.status() << "\n";
  ASSERT_TRUE(state.ok()) << state.status();
  const tablet::TabletState& st = state->state();
  EXPECT_FALSE(st.target().tablet_type() == topodata::PRIMARY && st.serving() && !st.read_only())
      << "the old primary claimed to be a writable PRIMARY after SIGCONT: "
      << st.ShortDebugString();

  // It follows the new primary, without row 1000.
  InsertRows(now_primary, 10, 20);
  ASSERT_TRUE(WaitRows(all_, 20));
  EXPECT_EQ(State("zone1-101")->target().tablet_type(), topodata::REPLICA);
}

// Of two ctlds only the leader watches primaries; it alone fails over.
TEST_F(FailoverE2eTest, TwoCtldsDoNotBothAct) {
  StartClusterWithPrimary();
  const int64_t term = Shard().primary_term();
  Ctld a = StartCtld("1.5s");
  Ctld b = StartCtld("1.5s");
  ASSERT_TRUE(WaitFor(absl::Seconds(20),
                      [&] { return IsCtldLeader(a.http_port) != IsCtldLeader(b.http_port); }));
  const Ctld& leader = IsCtldLeader(a.http_port) ? a : b;
  const Ctld& standby = IsCtldLeader(a.http_port) ? b : a;
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Watching(leader.http_port, "zone1-101"); }));
  EXPECT_EQ(Failover(standby.http_port)["running"], false);
  EXPECT_EQ(Failover(standby.http_port)["shards"].size(), 0u);

  const std::pair<std::string, absl::Duration> killed = KillPrimaryAndWait();
  const std::string primary = killed.first;  // not a structured binding: lambdas capture it
  const absl::Duration took = killed.second;
  ASSERT_FALSE(primary.empty());
  std::cout << "two ctlds: kill -9 to " << primary << " serving took "
            << absl::ToInt64Milliseconds(took) << " ms\n";
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Watching(leader.http_port, primary); }));
  EXPECT_EQ(Shard().primary_term(), term + 1);
  EXPECT_EQ(Succeeded(leader.http_port), 1) << Failover(leader.http_port)["history"].dump();
  EXPECT_EQ(Succeeded(standby.http_port), 0) << Failover(standby.http_port)["history"].dump();
}

// The leader record names the ctld that /debug/vars calls the leader, with
// the addresses it serves on; kill -9 of that ctld makes the standby the
// leader within the lock's lease, with its own record and the next term, and
// it then fails over a killed primary, once.
TEST_F(FailoverE2eTest, StandbyCtldTakesOverAfterKill9OfTheLeader) {
  StartClusterWithPrimary();
  const int64_t term = Shard().primary_term();
  Ctld a = StartCtld("1.5s");
  Ctld b = StartCtld("1.5s");
  ASSERT_TRUE(WaitFor(absl::Seconds(20),
                      [&] { return IsCtldLeader(a.http_port) != IsCtldLeader(b.http_port); }))
      << CtldLeadership(a.http_port).dump() << CtldLeadership(b.http_port).dump();
  Ctld& leader = IsCtldLeader(a.http_port) ? a : b;
  Ctld& standby = IsCtldLeader(a.http_port) ? b : a;

  absl::StatusOr<topo::CtldLeaderInfo> record = ts_->GetCtldLeader();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->record.holder(), CtldLeadership(leader.http_port)["holder"]);
  EXPECT_EQ(record->record.http_address(), absl::StrCat("127.0.0.1:", leader.http_port));
  EXPECT_EQ(record->record.grpc_address(), absl::StrCat("127.0.0.1:", leader.grpc_port));
  EXPECT_FALSE(record->record.has_resigned_at());
  const int64_t leader_term = record->record.term();
  EXPECT_GE(leader_term, 1);
  // Its gRPC port answers at the published address.
  auto channel =
      grpc::CreateChannel(record->record.grpc_address(), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10))));
  EXPECT_THAT(HttpGet(leader.http_port, "/metrics"), HasSubstr("shale_ctld_is_leader 1"));
  EXPECT_THAT(HttpGet(standby.http_port, "/metrics"), HasSubstr("shale_ctld_is_leader 0"));
  EXPECT_THAT(HttpGet(standby.http_port, "/debug/status"), HasSubstr("standing by"));
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Watching(leader.http_port, "zone1-101"); }));

  const absl::Time killed = absl::Now();
  ASSERT_TRUE(leader.process->Kill(SIGKILL).ok());
  ASSERT_TRUE(leader.process->WaitFor(absl::Seconds(10)).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] { return IsCtldLeader(standby.http_port); }))
      << CtldLeadership(standby.http_port).dump();
  std::cout << "ctld takeover: kill -9 of the leader to the standby leading took "
            << absl::ToInt64Milliseconds(absl::Now() - killed) << " ms (lock lease 10 s)\n";
  record = ts_->GetCtldLeader();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->record.holder(), CtldLeadership(standby.http_port)["holder"]);
  EXPECT_EQ(record->record.http_address(), absl::StrCat("127.0.0.1:", standby.http_port));
  EXPECT_EQ(record->record.grpc_address(), absl::StrCat("127.0.0.1:", standby.grpc_port));
  EXPECT_EQ(record->record.term(), leader_term + 1);
  EXPECT_THAT(HttpGet(standby.http_port, "/metrics"),
              HasSubstr("shale_ctld_leadership_changes_total{change=\"gained\"} 1"));

  // The new leader took over the failover duty: a killed primary is replaced once.
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Watching(standby.http_port, "zone1-101"); }));
  const std::string primary = KillPrimaryAndWait().first;
  ASSERT_FALSE(primary.empty()) << Failover(standby.http_port).dump();
  EXPECT_EQ(Shard().primary_term(), term + 1);
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Watching(standby.http_port, primary); }));
  EXPECT_EQ(Succeeded(standby.http_port), 1) << Failover(standby.http_port)["history"].dump();

  // SIGTERM: it steps down cleanly and says so in the record.
  ASSERT_TRUE(standby.process->Kill(SIGTERM).ok());
  absl::StatusOr<int> code = standby.process->WaitFor(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  record = ts_->GetCtldLeader();
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_TRUE(record->record.has_resigned_at());
}

TEST_F(FailoverE2eTest, HelpExplainsCtld) {
  absl::StatusOr<CliResult> r = RunShale({"ctld", "--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_THAT(r->out, HasSubstr("--failover-after"));
  EXPECT_THAT(r->out, HasSubstr("EmergencyReparentShard"));
  EXPECT_THAT(r->out, HasSubstr("--grpc-port"));
  EXPECT_THAT(r->out, HasSubstr("15999"));
  EXPECT_THAT(r->out, HasSubstr("/global/ctld/CtldLeader"));
  absl::StatusOr<CliResult> bad = RunShale({"ctld", "--failover-after", "soon"});
  ASSERT_TRUE(bad.ok());
  EXPECT_NE(bad->exit_code, 0);
  EXPECT_THAT(bad->err, HasSubstr("soon"));
}

}  // namespace
}  // namespace shale::e2e
