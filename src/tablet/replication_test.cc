// Replication, planned migration and semi-sync between in-process tablets
// (real gRPC over loopback) on the memory topology. Multi-process versions
// with real `shale tablet` processes are in tests/e2e/.

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/client/tablet_client.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/proto_time.h"
#include "tablet/replication/log_store.h"
#include "tablet/shard_tablets_test.h"
#include "tablet/tablet_server.h"
#include "tablet/test_topo.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

class ReplicationTest : public ShardTabletsTest {};

TEST_F(ReplicationTest, ReplicaConvergesWithDmlAndDdl) {
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n REAL)").ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Exec(*c, "INSERT INTO t VALUES (" + std::to_string(i) + ", 'x" + std::to_string(i) +
                             "', " + std::to_string(i * 1.5) + ")")
                    .ok());
  }
  ASSERT_TRUE(Exec(*c, "UPDATE t SET name = 'even' WHERE id % 2 = 0").ok());
  ASSERT_TRUE(Exec(*c, "DELETE FROM t WHERE id > 40").ok());
  ASSERT_TRUE(Exec(*c, "ALTER TABLE t ADD COLUMN extra BLOB").ok());
  ASSERT_TRUE(Exec(*c, "CREATE INDEX t_name ON t (name)").ok());
  ASSERT_TRUE(Exec(*c, "UPDATE t SET extra = x'00ff' WHERE id = 3").ok());
  ASSERT_TRUE(
      Exec(*c, "CREATE TABLE k (a TEXT, b INTEGER, PRIMARY KEY (a, b)) WITHOUT ROWID").ok());
  ASSERT_TRUE(Exec(*c, "INSERT INTO k VALUES ('a', 1), ('b', 2)").ok());
  // A table without a primary key is refused, and nothing is logged for it.
  auto nopk = Exec(*c, "CREATE TABLE bad (x INTEGER)");
  ASSERT_FALSE(nopk.ok());
  EXPECT_THAT(std::string(nopk.status().message()), HasSubstr("PRIMARY KEY"));

  // Writes through ExecuteFetchAsDba are logged like any other.
  ExecuteFetchAsDbaRequest dba;
  dba.set_sql("INSERT INTO t (id, name) VALUES (500, 'dba')");
  ASSERT_TRUE(c->Call(c->manager(), &TabletManager::Stub::ExecuteFetchAsDba, dba).ok());

  WaitCaughtUp(*r, *p);
  EXPECT_EQ(Content(*r), Content(*p));
  EXPECT_THAT(Content(*r), HasSubstr("even"));
  EXPECT_THAT(Content(*r), HasSubstr("dba"));
  // The health stream carries the log position.
  auto rc0 = Client(*r);
  grpc::ClientContext hctx;
  hctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto health = rc0->health().StreamHealth(&hctx, StreamHealthRequest());
  StreamHealthResponse h;
  ASSERT_TRUE(health->Read(&h));
  EXPECT_GE(h.realtime_stats().log_position(), p->replication().position().seq() - 1);
  EXPECT_LT(h.realtime_stats().replication_lag_seconds(), 5.0);
  hctx.TryCancel();
  // The replica's log rows are the primary's.
  auto lp = p->engine().ExecuteInternal("SELECT count(*), max(seq) FROM _shale_log");
  auto lr = r->engine().ExecuteInternal("SELECT count(*), max(seq) FROM _shale_log");
  ASSERT_TRUE(lp.ok() && lr.ok());
  EXPECT_EQ(lp->rows[0][0].int64(), lr->rows[0][0].int64());
  // Writes to the replica are refused.
  auto rc = Client(*r);
  auto w = Exec(*rc, "INSERT INTO t (id) VALUES (1000)", topodata::REPLICA);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(engine::SqlState(w.status()), "25006");
  // Status and health.
  ReplicationStatus st = r->replication().Status();
  EXPECT_TRUE(st.connected());
  EXPECT_EQ(st.source().uid(), 1u);
  EXPECT_LT(st.lag_seconds(), 5.0);
  EXPECT_EQ(p->replication().Status().followers_size(), 1);
}

TEST_F(ReplicationTest, IdlePrimaryWritesHeartbeats) {
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  const int64_t start = p->replication().position().seq();
  ASSERT_TRUE(p->replication().position().WaitFor(start + 2, absl::Now() + absl::Seconds(10)));
  WaitCaughtUp(*r, *p);
  auto hb = r->engine().ExecuteInternal("SELECT count(*) FROM _shale_log WHERE kind = 4");
  ASSERT_TRUE(hb.ok());
  EXPECT_GE(hb->rows[0][0].int64(), 2);
}

TEST_F(ReplicationTest, PlannedMigrationUnderWritersLosesNothing) {
  auto a = StartTablet(1, topodata::PRIMARY);
  auto b = StartTablet(2, topodata::REPLICA);
  auto c = StartTablet(3, topodata::REPLICA);
  ASSERT_TRUE(a && b && c);
  auto ca = Client(*a);
  ASSERT_TRUE(Exec(*ca, "CREATE TABLE w (id INTEGER PRIMARY KEY, writer INTEGER)").ok());
  WaitCaughtUp(*b, *a);
  WaitCaughtUp(*c, *a);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0}, errors{0};
  std::vector<std::thread> writers;
  std::mutex err_mu;
  std::string first_error;
  for (int wid = 0; wid < 3; ++wid) {
    writers.emplace_back([&, wid] {
      // Every writer keeps talking to the first primary: the tunnel forwards.
      auto client = Client(*a);
      for (int64_t i = 0; !stop.load(); ++i) {
        const int64_t id = wid * 1000000 + i;
        auto r = Exec(*client, "INSERT INTO w VALUES (" + std::to_string(id) + ", " +
                                   std::to_string(wid) + ")");
        if (r.ok()) {
          acked.fetch_add(1);
        } else {
          errors.fetch_add(1);
          std::lock_guard<std::mutex> l(err_mu);
          if (first_error.empty()) first_error = r.status().ToString();
        }
      }
    });
  }
  auto migrate = [&](TabletServer& from, TabletServer& to, int64_t term) {
    auto resp = Migrate(from, to, term);
    ASSERT_TRUE(resp.ok()) << resp.status();
  };
  const int64_t t0 = a->state().Snapshot().record.primary_term();
  // Let some writes through first.
  ASSERT_TRUE(a->replication().position().WaitFor(a->replication().position().seq() + 20,
                                                  absl::Now() + absl::Seconds(10)));
  migrate(*a, *b, t0 + 1);
  EXPECT_EQ(b->state().type(), topodata::PRIMARY);
  EXPECT_EQ(a->state().type(), topodata::REPLICA);
  ASSERT_TRUE(b->replication().position().WaitFor(b->replication().position().seq() + 20,
                                                  absl::Now() + absl::Seconds(10)));
  migrate(*b, *a, t0 + 2);
  EXPECT_EQ(a->state().type(), topodata::PRIMARY);
  ASSERT_TRUE(a->replication().position().WaitFor(a->replication().position().seq() + 20,
                                                  absl::Now() + absl::Seconds(10)));
  stop.store(true);
  for (auto& t : writers) t.join();

  EXPECT_EQ(errors.load(), 0) << first_error;
  auto count = a->engine().ExecuteInternal("SELECT count(*) FROM w");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->rows[0][0].int64(), acked.load());
  WaitCaughtUp(*b, *a);
  WaitCaughtUp(*c, *a);
  EXPECT_EQ(Content(*b), Content(*a));
  EXPECT_EQ(Content(*c), Content(*a));
  auto shard = topo_.ts.GetShard("app", "0");
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->record.primary_alias().uid(), 1u);
  EXPECT_EQ(shard->record.primary_term(), t0 + 2);
}

TEST_F(ReplicationTest, SemiSyncWaitsForAReplicaAndFailsSafelyWithoutOne) {
  ASSERT_NO_FATAL_FAILURE(CreateSemiSyncKeyspace());
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE s (id INTEGER PRIMARY KEY)").ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Exec(*c, "INSERT INTO s VALUES (" + std::to_string(i) + ")").ok());
    // Acknowledged means the replica has it already.
    auto on_r =
        r->engine().ExecuteInternal("SELECT count(*) FROM s WHERE id = " + std::to_string(i));
    ASSERT_TRUE(on_r.ok());
    EXPECT_EQ(on_r->rows[0][0].int64(), 1)
        << "row " << i << " acknowledged before the replica had it";
  }
  r->Stop();
  auto lost = Exec(*c, "INSERT INTO s VALUES (100)");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(engine::SqlState(lost.status()), "40003") << lost.status();
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ReplicationTest, PromoteElectsTheFirstPrimaryAndOthersFollow) {
  auto a = StartTablet(1, topodata::REPLICA);
  auto b = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(topo_.ts
                  .UpdateShardFields("app", "0",
                                     [&](topodata::Shard& s) {
                                       *s.mutable_primary_alias() =
                                           a->state().Snapshot().record.alias();
                                       s.set_primary_term(1);
                                       return absl::OkStatus();
                                     })
                  .ok());
  auto ca = Client(*a);
  PromoteReplicaRequest req;
  req.set_term(1);
  auto pr = ca->Call(ca->manager(), &TabletManager::Stub::PromoteReplica, req);
  ASSERT_TRUE(pr.ok()) << pr.status();
  EXPECT_EQ(a->state().type(), topodata::PRIMARY);
  ASSERT_TRUE(Exec(*ca, "CREATE TABLE e (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Exec(*ca, "INSERT INTO e VALUES (7)").ok());
  WaitCaughtUp(*b, *a);
  EXPECT_EQ(Content(*b), Content(*a));
  // An older term is refused (fencing).
  auto cb = Client(*b);
  PromoteReplicaRequest old;
  old.set_term(1);
  auto refused = cb->Call(cb->manager(), &TabletManager::Stub::PromoteReplica, old);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ReplicationTest, NewReplicaClonesWhenTheLogNoLongerStartsAtOne) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)").ok());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Exec(*c, "INSERT INTO big VALUES (" + std::to_string(i) + ", 'v')").ok());
  }
  // Only the newest entries are retained: replaying from entry 1 is impossible.
  const int64_t keep_from = p->replication().position().seq() - 3;
  ASSERT_TRUE(replication::TrimLog(p->engine(), keep_from).ok());
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(r);
  WaitCaughtUp(*r, *p);
  EXPECT_EQ(Content(*r), Content(*p));
  auto first = r->engine().ExecuteInternal("SELECT min(seq) FROM _shale_log");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rows[0][0].int64(), keep_from);
  // It keeps streaming after the clone.
  ASSERT_TRUE(Exec(*c, "INSERT INTO big VALUES (1000, 'after')").ok());
  WaitCaughtUp(*r, *p);
  EXPECT_EQ(Content(*r), Content(*p));
}

TEST_F(ReplicationTest, ReplicaBehindRetentionReclonesByItself) {
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  WaitCaughtUp(*r, *p);
  r->replication().StopReplication();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Exec(*c, "INSERT INTO t VALUES (" + std::to_string(i) + ")").ok());
  }
  ASSERT_TRUE(replication::TrimLog(p->engine(), p->replication().position().seq() - 2).ok());
  r->replication().StartReplication();
  WaitCaughtUp(*r, *p);
  EXPECT_EQ(Content(*r), Content(*p));
}

TEST_F(ReplicationTest, DeposedPrimaryReturnsAsReplicaWithoutDivergentRows) {
  auto a = StartTablet(1, topodata::PRIMARY);
  auto b = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(a && b);
  auto ca = Client(*a);
  ASSERT_TRUE(Exec(*ca, "CREATE TABLE d (id INTEGER PRIMARY KEY, src TEXT)").ok());
  ASSERT_TRUE(Exec(*ca, "INSERT INTO d VALUES (1, 'replicated')").ok());
  WaitCaughtUp(*b, *a);
  // The replica stops hearing from the primary, which goes on writing alone
  // (asynchronous durability), then dies.
  b->replication().StopReplication();
  ASSERT_TRUE(Exec(*ca, "INSERT INTO d VALUES (2, 'divergent')").ok());
  ASSERT_TRUE(Exec(*ca, "INSERT INTO d VALUES (3, 'divergent')").ok());
  const int64_t term = a->state().Snapshot().record.primary_term();
  a.reset();
  // Emergency reparent: the Shard record first, then the promotion.
  ASSERT_TRUE(topo_.ts
                  .UpdateShardFields("app", "0",
                                     [&](topodata::Shard& s) {
                                       *s.mutable_primary_alias() =
                                           b->state().Snapshot().record.alias();
                                       s.set_primary_term(term + 1);
                                       return absl::OkStatus();
                                     })
                  .ok());
  auto cb = Client(*b);
  PromoteReplicaRequest req;
  req.set_term(term + 1);
  ASSERT_TRUE(cb->Call(cb->manager(), &TabletManager::Stub::PromoteReplica, req).ok());
  ASSERT_TRUE(Exec(*cb, "INSERT INTO d VALUES (4, 'new primary')").ok());
  // The old primary comes back: it must start as a replica and drop rows 2, 3.
  a = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state().type(), topodata::REPLICA);
  WaitCaughtUp(*a, *b);
  EXPECT_EQ(Content(*a), Content(*b));
  EXPECT_THAT(Content(*a), ::testing::Not(HasSubstr("divergent")));
  // And it refuses writes.
  auto w = Exec(*Client(*a), "INSERT INTO d VALUES (5, 'x')", topodata::REPLICA);
  EXPECT_FALSE(w.ok());
}

TEST_F(ReplicationTest, OpenTransactionsAreRolledBackWith40001AfterTheGrace) {
  auto a = StartTablet(1, topodata::PRIMARY);
  auto b = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(a && b);
  auto ca = Client(*a);
  ASSERT_TRUE(Exec(*ca, "CREATE TABLE g (id INTEGER PRIMARY KEY)").ok());
  WaitCaughtUp(*b, *a);
  Target target;
  target.set_keyspace("app");
  target.set_shard("0");
  target.set_tablet_type(topodata::PRIMARY);
  BeginRequest begin;
  *begin.mutable_target() = target;
  auto txn = ca->Call(ca->query(), &Query::Stub::Begin, begin);
  ASSERT_TRUE(txn.ok()) << txn.status();
  ExecuteRequest ins;
  *ins.mutable_target() = target;
  ins.set_sql("INSERT INTO g VALUES (1)");
  ins.set_transaction_id(txn->transaction_id());
  ASSERT_TRUE(ca->Call(ca->query(), &Query::Stub::Execute, ins).ok());

  auto resp = Migrate(*a, *b, a->state().Snapshot().record.primary_term() + 1, /*grace_ms=*/100);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->rolled_back(), 1);
  CommitRequest commit;
  *commit.mutable_target() = target;
  commit.set_transaction_id(txn->transaction_id());
  auto done = ca->Call(ca->query(), &Query::Stub::Commit, commit);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(engine::SqlState(done.status()), "40001") << done.status();
  // The rolled-back row is nowhere; the new primary takes the retry.
  auto cb = Client(*b);
  ASSERT_TRUE(Exec(*cb, "INSERT INTO g VALUES (1)").ok());
  auto count = b->engine().ExecuteInternal("SELECT count(*) FROM g");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->rows[0][0].int64(), 1);
}

TEST_F(ReplicationTest, RoundRobinMigrationsStayFast) {
  auto a = StartTablet(1, topodata::PRIMARY);
  auto b = StartTablet(2, topodata::REPLICA);
  auto c = StartTablet(3, topodata::REPLICA);
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(Exec(*Client(*a), "CREATE TABLE rr (id INTEGER PRIMARY KEY)").ok());
  std::vector<TabletServer*> order = {b.get(), c.get(), a.get(), b.get(), c.get(), a.get()};
  TabletServer* primary = a.get();
  int64_t term = a->state().Snapshot().record.primary_term();
  for (TabletServer* next : order) {
    WaitCaughtUp(*next, *primary);
    // Every replica follows the current primary itself, not a former one
    // (whose CHANGE_CONFIG acknowledgements would never reach the primary).
    const uint32_t want = primary->state().Snapshot().record.alias().uid();
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (next->replication().current_source().uid() != want && absl::Now() < deadline) {
      next->replication().position().WaitPast(next->replication().position().seq(),
                                              absl::Now() + absl::Milliseconds(20));
    }
    ASSERT_EQ(next->replication().current_source().uid(), want);
    auto resp = Migrate(*primary, *next, ++term, /*grace_ms=*/0, /*timeout_ms=*/5000);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(next->state().type(), topodata::PRIMARY);
    primary = next;
    ASSERT_TRUE(
        Exec(*Client(*primary), "INSERT INTO rr VALUES (" + std::to_string(term) + ")").ok());
  }
  WaitCaughtUp(*a, *primary);
  WaitCaughtUp(*b, *primary);
  WaitCaughtUp(*c, *primary);
  EXPECT_EQ(Content(*a), Content(*primary));
  EXPECT_EQ(Content(*b), Content(*primary));
  EXPECT_EQ(Content(*c), Content(*primary));
}

}  // namespace
}  // namespace shale::tablet
