// The primary switch of resharding on the tablet (docs/resharding.md, "The
// primary switch"; serving_primary.h): FreezeWrites / ThawWrites between
// in-process tablets over loopback gRPC on the memory topology, and the
// refusal of PRIMARY statements by a shard whose Shard record no longer
// serves PRIMARY.

#include <atomic>
#include <thread>

#include "base/wait_for.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/client/resharded.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/shard_tablets_test.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

class ReshardSwitchTest : public ShardTabletsTest {
 protected:
  static absl::StatusOr<FreezeWritesResponse> Freeze(TabletClient& c, int64_t max_freeze_ms = 0,
                                                     int64_t grace_ms = 0) {
    FreezeWritesRequest req;
    req.set_max_freeze_ms(max_freeze_ms);
    req.set_grace_ms(grace_ms);
    return c.Call(c.reshard(), &Reshard::Stub::FreezeWrites, req, absl::Seconds(30));
  }

  static absl::Status Thaw(TabletClient& c, bool resharded) {
    ThawWritesRequest req;
    req.set_resharded(resharded);
    return c.Call(c.reshard(), &Reshard::Stub::ThawWrites, req).status();
  }

  static absl::Status Dba(TabletClient& c, const std::string& sql) {
    ExecuteFetchAsDbaRequest req;
    req.set_sql(sql);
    return c.Call(c.manager(), &TabletManager::Stub::ExecuteFetchAsDba, req).status();
  }

  // Sets or clears PRIMARY in app/<shard>'s served_types.
  void ServePrimary(bool serve, const std::string& shard = "0") {
    ASSERT_TRUE(topo_.ts
                    .UpdateShardFields("app", shard,
                                       [&](topodata::Shard& s) {
                                         s.clear_served_types();
                                         if (serve) {
                                           s.add_served_types()->set_tablet_type(
                                               topodata::PRIMARY);
                                         }
                                         s.add_served_types()->set_tablet_type(
                                             topodata::REPLICA);
                                         return absl::OkStatus();
                                       })
                    .ok());
  }

  static int64_t Count(TabletServer& t, const std::string& table) {
    auto r = t.engine().ExecuteInternal("SELECT count(*) FROM " + table);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->rows[0][0].int64() : -1;
  }
};

TEST_F(ReshardSwitchTest, FreezeHoldsWritesCoversTheAdmittedOnesAndThawLetsThemRun) {
  ASSERT_NO_FATAL_FAILURE(CreateSemiSyncKeyspace());
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());

  // Writers run while the freeze comes: every write they got an answer for
  // before the freeze answered is at or before the position it returns.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      auto wc = Client(*p);
      for (int i = 0; !stop.load(); ++i) {
        auto res = Exec(*wc, "INSERT INTO t VALUES (" + std::to_string(w * 1000000 + i) + ", 'w')");
        (res.ok() ? acked : failed).fetch_add(1);
      }
    });
  }
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return acked.load() > 30; }));
  absl::StatusOr<FreezeWritesResponse> f = Freeze(*c, /*max_freeze_ms=*/60000, /*grace_ms=*/200);
  ASSERT_TRUE(f.ok()) << f.status();
  const int64_t acked_at_freeze = acked.load();
  EXPECT_GT(f->position().seq(), 0);
  EXPECT_EQ(f->position().row(), 0);
  EXPECT_EQ(f->position().term(), p->replication().position().Get().term());
  EXPECT_TRUE(p->serving_primary().frozen());
  // The writers now wait at the gate.
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return p->write_gate().waiting() >= 3; }));
  const int64_t rows_frozen = Count(*p, "t");
  EXPECT_GE(rows_frozen, acked_at_freeze);
  // The replica at the returned position has every row the primary has.
  auto rc = Client(*r);
  WaitForPositionRequest wait;
  wait.set_seq(f->position().seq());
  ASSERT_TRUE(rc->Call(rc->replication(), &Replication::Stub::WaitForPosition, wait).ok());
  EXPECT_EQ(Count(*r, "t"), rows_frozen);

  // Internal writes (a stream's) go on during the freeze, and DBA reads too.
  ASSERT_TRUE(p->engine().ExecuteInternal("CREATE TABLE internal_t (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(p->engine().ExecuteInternal("INSERT INTO internal_t VALUES (1)").ok());
  ASSERT_TRUE(p->engine()
                  .RunInternalWrite([](engine::WriteTxn& txn) {
                    return txn.Execute("INSERT INTO internal_t VALUES (2)", {},
                                       engine::Access::kInternal)
                        .status();
                  })
                  .ok());
  EXPECT_EQ(Count(*p, "internal_t"), 2);
  EXPECT_EQ(Count(*p, "t"), rows_frozen);  // and no user write slipped through
  EXPECT_EQ(failed.load(), 0);

  ASSERT_TRUE(Thaw(*c, /*resharded=*/false).ok());
  EXPECT_FALSE(p->serving_primary().frozen());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return Count(*p, "t") > rows_frozen + 3; }));
  stop.store(true);
  for (auto& t : writers) t.join();
  EXPECT_EQ(failed.load(), 0) << "no write fails across a freeze and thaw";
  EXPECT_TRUE(p->serving_primary().serves_primary());
}

TEST_F(ReshardSwitchTest, FreezeRollsBackOpenWriteTransactionsAfterTheGrace) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  BeginRequest begin;
  *begin.mutable_target() = [] {
    Target t;
    t.set_keyspace("app");
    t.set_shard("0");
    t.set_tablet_type(topodata::PRIMARY);
    return t;
  }();
  auto b = c->Call(c->query(), &Query::Stub::Begin, begin);
  ASSERT_TRUE(b.ok()) << b.status();
  ExecuteRequest in_txn;
  *in_txn.mutable_target() = begin.target();
  in_txn.set_transaction_id(b->transaction_id());
  in_txn.set_sql("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(c->Call(c->query(), &Query::Stub::Execute, in_txn).ok());

  absl::StatusOr<FreezeWritesResponse> f = Freeze(*c, 60000, /*grace_ms=*/100);
  ASSERT_TRUE(f.ok()) << f.status();
  in_txn.set_sql("INSERT INTO t VALUES (2)");
  auto late = c->Call(c->query(), &Query::Stub::Execute, in_txn);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(engine::SqlState(late.status()), "40001") << late.status();
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("resharding"));
  EXPECT_EQ(Count(*p, "t"), 0);
  ASSERT_TRUE(Thaw(*c, false).ok());
  EXPECT_TRUE(Exec(*c, "INSERT INTO t VALUES (3)").ok());
}

TEST_F(ReshardSwitchTest, ThawReshardedGivesTheWaitingWritesTheReshardedError) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Exec(*c, "INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE(Freeze(*c, 60000, 100).ok());
  auto wc = Client(*p);
  PendingWrite waiting(wc.get(), "INSERT INTO t VALUES (2)");
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return p->write_gate().waiting() >= 1; }));
  EXPECT_FALSE(waiting.done.load());

  // The flip as SwitchTraffic does it: the Shard record first, then the thaw.
  ASSERT_NO_FATAL_FAILURE(ServePrimary(false));
  ASSERT_TRUE(Thaw(*c, /*resharded=*/true).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return waiting.done.load(); }));
  waiting.thread.join();
  EXPECT_TRUE(IsResharded(waiting.status)) << waiting.status;
  EXPECT_THAT(std::string(waiting.status.message()), HasSubstr("resharded: app/0"));
  EXPECT_EQ(engine::SqlState(waiting.status), "40001");

  // Every later PRIMARY statement is refused, reads and Begin included.
  auto w = Exec(*c, "INSERT INTO t VALUES (3)");
  EXPECT_TRUE(IsResharded(w.status())) << w.status();
  auto rd = Exec(*c, "SELECT * FROM t");
  EXPECT_TRUE(IsResharded(rd.status())) << rd.status();
  BeginRequest begin;
  begin.mutable_target()->set_keyspace("app");
  begin.mutable_target()->set_shard("0");
  begin.mutable_target()->set_tablet_type(topodata::PRIMARY);
  auto b = c->Call(c->query(), &Query::Stub::Begin, begin);
  EXPECT_TRUE(IsResharded(b.status())) << b.status();
  EXPECT_EQ(Count(*p, "t"), 1);

  // The gate opens again for what is not primary traffic: DBA and internal
  // writes (reverse streams) go on.
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return !p->write_gate().frozen(); }));
  EXPECT_TRUE(Dba(*c, "INSERT INTO t VALUES (10)").ok());
  EXPECT_TRUE(p->engine().ExecuteInternal("INSERT INTO t VALUES (11)").ok());
  EXPECT_EQ(Count(*p, "t"), 3);

  // ReverseTraffic gives PRIMARY back: the tablet serves again.
  ASSERT_NO_FATAL_FAILURE(ServePrimary(true));
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return Exec(*c, "INSERT INTO t VALUES (4)").ok(); }));
}

TEST_F(ReshardSwitchTest, AutoThawFollowsTheShardRecord) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());

  // No ThawWrites, the record still serves PRIMARY: the writes go on here.
  ASSERT_TRUE(Freeze(*c, /*max_freeze_ms=*/300, 100).ok());
  auto wc = Client(*p);
  {
    PendingWrite waiting(wc.get(), "INSERT INTO t VALUES (1)");
    ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return waiting.done.load(); }));
    waiting.thread.join();
    EXPECT_TRUE(waiting.status.ok()) << waiting.status;
  }
  EXPECT_FALSE(p->serving_primary().frozen());
  EXPECT_EQ(Count(*p, "t"), 1);

  // No ThawWrites, and the record lost PRIMARY meanwhile: resharded.
  ASSERT_TRUE(Freeze(*c, /*max_freeze_ms=*/500, 100).ok());
  {
    PendingWrite waiting(wc.get(), "INSERT INTO t VALUES (2)");
    ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return p->write_gate().waiting() >= 1; }));
    ASSERT_NO_FATAL_FAILURE(ServePrimary(false));
    ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return waiting.done.load(); }));
    waiting.thread.join();
    EXPECT_TRUE(IsResharded(waiting.status)) << waiting.status;
  }
  EXPECT_FALSE(p->serving_primary().serves_primary());
  EXPECT_EQ(Count(*p, "t"), 1);
}

TEST_F(ReshardSwitchTest, FreezeOnlyOnThePrimary) {
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  auto rc = Client(*r);
  auto f = Freeze(*rc);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition) << f.status();
  auto neg = Freeze(*Client(*p), -1);
  EXPECT_EQ(neg.status().code(), absl::StatusCode::kInvalidArgument) << neg.status();
}

TEST_F(ReshardSwitchTest, ARestartedPrimaryKeepsRefusingWhenTheShardServesNoPrimary) {
  {
    auto p = StartTablet(1, topodata::PRIMARY);
    ASSERT_TRUE(p);
    auto c = Client(*p);
    ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
    ASSERT_NO_FATAL_FAILURE(ServePrimary(false));
    ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return !p->serving_primary().serves_primary(); }));
  }
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state().type(), topodata::PRIMARY);
  auto c = Client(*p);
  auto w = Exec(*c, "INSERT INTO t VALUES (1)");
  EXPECT_TRUE(IsResharded(w.status())) << w.status();
  EXPECT_TRUE(Dba(*c, "INSERT INTO t VALUES (2)").ok());
  EXPECT_EQ(Count(*p, "t"), 1);
}

// A shard created overlapping others (a resharding target) serves nothing:
// its tablet starts, becomes primary, takes DBA and internal writes, and
// refuses PRIMARY statements until SwitchTraffic gives it PRIMARY.
TEST_F(ReshardSwitchTest, AnOverlappingTargetShardStartsAndServesOnlyInternalWrites) {
  ASSERT_TRUE(topo_.ts.CreateKeyspace("app", topodata::Keyspace()).ok());
  ASSERT_TRUE(topo_.ts.CreateShard("app", "0").ok());
  ASSERT_TRUE(topo_.ts.CreateShard("app", "-80").ok());
  auto shard = topo_.ts.GetShard("app", "-80");
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->record.served_types_size(), 0);

  TabletServerOptions o = TestTabletOptions(7, topodata::PRIMARY, dir_.path());
  o.shard = "-80";
  auto t = TabletServer::Start(&topo_.ts, o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->state().type(), topodata::PRIMARY);
  EXPECT_FALSE((*t)->serving_primary().serves_primary());
  auto c = Client(**t);
  ASSERT_TRUE(Dba(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Dba(*c, "INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE((*t)->engine().ExecuteInternal("INSERT INTO t VALUES (2)").ok());
  ExecuteRequest req;
  req.mutable_target()->set_keyspace("app");
  req.mutable_target()->set_shard("-80");
  req.mutable_target()->set_tablet_type(topodata::PRIMARY);
  req.set_sql("INSERT INTO t VALUES (3)");
  auto refused = c->Call(c->query(), &Query::Stub::Execute, req);
  EXPECT_TRUE(IsResharded(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("app/-80"));
  EXPECT_EQ(Count(**t, "t"), 2);

  ASSERT_NO_FATAL_FAILURE(ServePrimary(true, "-80"));
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return c->Call(c->query(), &Query::Stub::Execute, req).ok();
  }));
  EXPECT_EQ(Count(**t, "t"), 3);
}

}  // namespace
}  // namespace shale::tablet
