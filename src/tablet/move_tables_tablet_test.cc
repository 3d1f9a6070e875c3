// MoveTables on the tablet (issue 10; docs/resharding.md): the denied tables
// of a shard (Shard.denied_tables, and ThawWrites' denied_tables ahead of
// the record; serving_primary.h) refuse PRIMARY statements on those tables
// with the retryable resharded error, and a stream of tables from another
// keyspace runs only while the target shard denies them
// (reshard/stream_manager.h). In-process tablets over loopback gRPC on the
// memory topology.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/wait_for.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/client/resharded.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/shard_tablets_test.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(30);

class MoveTablesTabletTest : public ShardTabletsTest {
 protected:
  // A tablet of keyspace/shard.
  std::unique_ptr<TabletServer> StartIn(uint32_t uid, const std::string& keyspace,
                                        const std::string& shard, topodata::TabletType type) {
    TabletServerOptions o = TestTabletOptions(uid, type, dir_.path());
    o.keyspace = keyspace;
    o.shard = shard;
    o.heartbeat_interval = absl::Milliseconds(200);
    auto s = TabletServer::Start(&topo_.ts, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  // Sets keyspace/shard's denied_tables.
  void Deny(const std::vector<std::string>& tables, const std::string& keyspace = "app",
            const std::string& shard = "0") {
    auto r = topo_.ts.UpdateShardFields(keyspace, shard, [&](topodata::Shard& s) {
      s.clear_denied_tables();
      for (const std::string& t : tables) s.add_denied_tables(t);
      return absl::OkStatus();
    });
    ASSERT_TRUE(r.ok()) << r.status();
  }

  static absl::StatusOr<QueryResult> Dba(TabletClient& c, const std::string& sql) {
    ExecuteFetchAsDbaRequest req;
    req.set_sql(sql);
    auto r = c.Call(c.manager(), &TabletManager::Stub::ExecuteFetchAsDba, req);
    if (!r.ok()) return r.status();
    return r->result();
  }

  static absl::Status Thaw(TabletClient& c, bool resharded,
                           const std::vector<std::string>& denied_tables) {
    ThawWritesRequest req;
    req.set_resharded(resharded);
    for (const std::string& t : denied_tables) req.add_denied_tables(t);
    return c.Call(c.reshard(), &Reshard::Stub::ThawWrites, req).status();
  }

  // The rows of table on t, ordered by the first column, as one string
  // ("" if the table does not exist).
  static std::string Rows(TabletServer& t, const std::string& table) {
    auto rs = t.engine().ExecuteInternal("SELECT * FROM " + table + " ORDER BY 1");
    if (!rs.ok()) return "";
    std::string out;
    for (const auto& row : rs->rows) {
      for (const auto& v : row) out += v.DebugString() + ",";
      out += ";";
    }
    return out;
  }

  static bool HasTable(TabletServer& t, const std::string& table) {
    auto rs = t.engine().ExecuteInternal(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        {engine::Value(table)});
    EXPECT_TRUE(rs.ok()) << rs.status();
    return rs.ok() && rs->rows[0][0].int64() == 1;
  }

  static void ExpectMoved(const absl::Status& s, const std::string& table) {
    EXPECT_TRUE(IsResharded(s)) << s;
    EXPECT_EQ(engine::SqlState(s), "40001") << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("table " + table + " of app/0"));
  }
};

TEST_F(MoveTablesTabletTest, TheShardRecordsDeniedTablesRefusePrimaryStatementsOnThem) {
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE(Exec(*c, "CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE(Exec(*c, "INSERT INTO t VALUES (1, 'a')").ok());
  ASSERT_TRUE(Exec(*c, "INSERT INTO u VALUES (1, 'a')").ok());
  // A statement on t that is in the connections' statement caches already.
  ASSERT_TRUE(Exec(*c, "SELECT v FROM t WHERE id = 1").ok());

  ASSERT_NO_FATAL_FAILURE(Deny({"T"}));  // names compare case-insensitively
  ASSERT_TRUE(WaitFor(kWait, [&] { return !Exec(*c, "SELECT v FROM t WHERE id = 1").ok(); }));
  ExpectMoved(Exec(*c, "SELECT v FROM t WHERE id = 1").status(), "t");
  ExpectMoved(Exec(*c, "INSERT INTO t VALUES (2, 'b')").status(), "t");
  ExpectMoved(Exec(*c, "UPDATE t SET v = 'x'").status(), "t");
  ExpectMoved(Exec(*c, "SELECT * FROM u JOIN t USING (id)").status(), "t");
  // Another table goes on.
  EXPECT_TRUE(Exec(*c, "INSERT INTO u VALUES (2, 'b')").ok());
  EXPECT_TRUE(Exec(*c, "SELECT * FROM u").ok());

  // In a transaction: the statement on t is refused, the transaction goes on.
  BeginRequest begin;
  *begin.mutable_target() = TestTarget("app", "0");
  auto b = c->Call(c->query(), &Query::Stub::Begin, begin);
  ASSERT_TRUE(b.ok()) << b.status();
  ExecuteRequest in_txn;
  *in_txn.mutable_target() = begin.target();
  in_txn.set_transaction_id(b->transaction_id());
  in_txn.set_sql("INSERT INTO t VALUES (3, 'c')");
  ExpectMoved(c->Call(c->query(), &Query::Stub::Execute, in_txn).status(), "t");
  in_txn.set_sql("INSERT INTO u VALUES (3, 'c')");
  EXPECT_TRUE(c->Call(c->query(), &Query::Stub::Execute, in_txn).ok());
  CommitRequest commit;
  *commit.mutable_target() = begin.target();
  commit.set_transaction_id(b->transaction_id());
  EXPECT_TRUE(c->Call(c->query(), &Query::Stub::Commit, commit).ok());
  EXPECT_EQ(Rows(*p, "t"), "1,'a',;");
  EXPECT_EQ(Rows(*p, "u"), "1,'a',;2,'b',;3,'c',;");

  // ExecuteFetchAsDba is not concerned.
  auto dba = Dba(*c, "SELECT count(*) FROM t");
  ASSERT_TRUE(dba.ok()) << dba.status();
  EXPECT_TRUE(Dba(*c, "INSERT INTO t VALUES (10, 'dba')").ok());
  EXPECT_EQ(Rows(*p, "t"), "1,'a',;10,'dba',;");

  // A replica's reads are not concerned.
  auto rc = Client(*r);
  WaitCaughtUp(*r, *p);
  auto replica_read = Exec(*rc, "SELECT count(*) FROM t", topodata::REPLICA);
  ASSERT_TRUE(replica_read.ok()) << replica_read.status();
  EXPECT_EQ(replica_read->rows(0).values(0).int64(), 2);

  // The record without t: t is served again.
  ASSERT_NO_FATAL_FAILURE(Deny({}));
  ASSERT_TRUE(WaitFor(kWait, [&] { return Exec(*c, "INSERT INTO t VALUES (4, 'd')").ok(); }));
  EXPECT_TRUE(Exec(*c, "SELECT v FROM t WHERE id = 1").ok());
}

TEST_F(MoveTablesTabletTest, ThawWithDeniedTablesRefusesTheWaitingWritesOnThemOnly) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  auto c = Client(*p);
  ASSERT_TRUE(Exec(*c, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Exec(*c, "CREATE TABLE u (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Exec(*c, "INSERT INTO t VALUES (1)").ok());
  FreezeWritesRequest freeze;
  freeze.set_max_freeze_ms(60000);
  freeze.set_grace_ms(100);
  ASSERT_TRUE(c->Call(c->reshard(), &Reshard::Stub::FreezeWrites, freeze).ok());

  auto wt = Client(*p);
  auto wu = Client(*p);
  PendingWrite to_t(wt.get(), "INSERT INTO t VALUES (2)");
  PendingWrite to_u(wu.get(), "INSERT INTO u VALUES (2)");
  ASSERT_TRUE(WaitFor(kWait, [&] { return p->write_gate().waiting() >= 2; }));
  EXPECT_FALSE(to_t.done.load());
  EXPECT_FALSE(to_u.done.load());

  // MoveTables' switch: the tables join the denied ones at once, the other
  // writes go on here.
  ASSERT_TRUE(Thaw(*c, /*resharded=*/false, {"t"}).ok());
  ASSERT_TRUE(WaitFor(kWait, [&] { return to_t.done.load() && to_u.done.load(); }));
  to_t.thread.join();
  to_u.thread.join();
  ExpectMoved(to_t.status, "t");
  EXPECT_TRUE(to_u.status.ok()) << to_u.status;
  EXPECT_EQ(Rows(*p, "t"), "1,;");
  EXPECT_EQ(Rows(*p, "u"), "2,;");
  EXPECT_TRUE(p->serving_primary().serves_primary());
  ExpectMoved(Exec(*c, "SELECT * FROM t").status(), "t");
  EXPECT_TRUE(Exec(*c, "INSERT INTO u VALUES (3)").ok());

  // The record catches up (lists t), then loses t again (ReverseTraffic):
  // the entry ThawWrites added is gone with the first, so t is served again.
  ASSERT_NO_FATAL_FAILURE(Deny({"t"}));
  ASSERT_NO_FATAL_FAILURE(Deny({}));
  ASSERT_TRUE(WaitFor(kWait, [&] { return Exec(*c, "INSERT INTO t VALUES (5)").ok(); }));
  EXPECT_EQ(Rows(*p, "t"), "1,;5,;");
}

TEST_F(MoveTablesTabletTest, AStreamOfTablesFromAnotherKeyspaceRunsOnlyWhileTheyAreDenied) {
  // KS1 src: the tables' home. KS2 dst: sharded by id, one shard serving
  // everything; t moves in.
  ASSERT_TRUE(topo_.ts.CreateKeyspace("src", topodata::Keyspace()).ok());
  topodata::Keyspace dst;
  dst.set_sharding_column_name("id");
  dst.set_sharding_column_type(topodata::UINT64);
  ASSERT_TRUE(topo_.ts.CreateKeyspace("dst", dst).ok());
  ASSERT_TRUE(topo_.ts.CreateShard("src", "0").ok());
  ASSERT_TRUE(topo_.ts.CreateShard("dst", "0").ok());
  auto source = StartIn(100, "src", "0", topodata::PRIMARY);
  auto target = StartIn(200, "dst", "0", topodata::PRIMARY);
  ASSERT_TRUE(source && target);
  auto sc = Client(*source);
  const Target src_primary = TestTarget("src", "0");
  ASSERT_TRUE(ExecAt(*sc, src_primary, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE(ExecAt(*sc, src_primary, "CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)").ok());
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(ExecAt(*sc, src_primary, absl::StrCat("INSERT INTO t VALUES (", i, ", 't", i, "')"))
                    .ok());
    ASSERT_TRUE(ExecAt(*sc, src_primary, absl::StrCat("INSERT INTO u VALUES (", i, ", 'u", i, "')"))
                    .ok());
  }

  auto r = topo_.ts.UpdateShardFields("dst", "0", [&](topodata::Shard& s) {
    auto* src = s.add_source_shards();
    src->set_uid(1);
    src->set_keyspace("src");
    src->set_shard("0");
    src->add_tables("t");
    return absl::OkStatus();
  });
  ASSERT_TRUE(r.ok()) << r.status();
  // Dormant while dst/0 does not deny t: SyncStreams reconciles with the
  // record now, and no stream runs, nothing is copied.
  auto synced = target->streams().Sync();
  ASSERT_TRUE(synced.ok()) << synced.status();
  EXPECT_TRUE(synced->empty());
  EXPECT_FALSE(HasTable(*target, "t"));
  EXPECT_EQ(target->streams().WaitForPosition(1, ChangePosition(), absl::Now()).status().code(),
            absl::StatusCode::kNotFound);

  // dst/0 denies t (the tables moving in): the stream copies t, only t.
  ASSERT_NO_FATAL_FAILURE(Deny({"t"}, "dst", "0"));
  auto running = [&] {
    for (const StreamState& s : target->streams().States()) {
      if (s.uid() == 1 && s.phase() == RUNNING) return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitFor(kWait, running));
  EXPECT_EQ(Rows(*target, "t"), Rows(*source, "t"));
  EXPECT_FALSE(HasTable(*target, "u"));
  // The target refuses user statements on t meanwhile.
  auto tc = Client(*target);
  auto refused = ExecAt(*tc, TestTarget("dst", "0"), "SELECT * FROM t");
  EXPECT_TRUE(IsResharded(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("table t of dst/0"));

  // New writes on the source's t arrive; u's do not.
  ASSERT_TRUE(ExecAt(*sc, src_primary, "INSERT INTO u VALUES (100, 'new u')").ok());
  ASSERT_TRUE(ExecAt(*sc, src_primary, "INSERT INTO t VALUES (100, 'new t')").ok());
  ASSERT_TRUE(ExecAt(*sc, src_primary, "UPDATE t SET v = 'changed' WHERE id = 3").ok());
  ASSERT_TRUE(ExecAt(*sc, src_primary, "DELETE FROM t WHERE id = 4").ok());
  ASSERT_TRUE(WaitFor(kWait, [&] { return Rows(*target, "t") == Rows(*source, "t"); }))
      << Rows(*target, "t");
  EXPECT_THAT(Rows(*target, "t"), HasSubstr("100,'new t'"));
  EXPECT_FALSE(HasTable(*target, "u"));

  // t no longer denied (served here now): the stream is dormant again and
  // its state is kept.
  ASSERT_NO_FATAL_FAILURE(Deny({}, "dst", "0"));
  synced = target->streams().Sync();
  ASSERT_TRUE(synced.ok()) << synced.status();
  ASSERT_EQ(synced->size(), 1u);
  EXPECT_EQ((*synced)[0].uid(), 1u);
  EXPECT_EQ(target->streams().WaitForPosition(1, ChangePosition(), absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(ExecAt(*sc, src_primary, "INSERT INTO t VALUES (101, 'not streamed')").ok());
  ASSERT_TRUE(WaitFor(kWait, [&] {
    return ExecAt(*tc, TestTarget("dst", "0"), "SELECT count(*) FROM t").ok();
  }));
  auto served = ExecAt(*tc, TestTarget("dst", "0"), "SELECT count(*) FROM t WHERE id = 101");
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->rows(0).values(0).int64(), 0);
}

}  // namespace
}  // namespace shale::tablet
