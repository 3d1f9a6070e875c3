// The gateway's routing rules (MoveTables; proto Keyspace.RoutingRule,
// gate/routing_rules.h): keyspace app (GateTestCluster: -80 and 80-, a
// primary and a replica each) has tables t and u; keyspace ks2 (unsharded,
// shard 0, one primary) has its own t with other rows. A rule
// `t@PRIMARY -> ks2` in app's Keyspace record, published by
// RebuildKeyspaceGraph, makes sessions on app plan and run statements on t
// in ks2: reads, writes, transactions spanning both keyspaces, prepared
// statements planned before the rule, COPY, and statements a resharded
// shard refused.

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/wait_for.h"
#include "ctl/rebuild.h"
#include "gate/gateway_test_env.h"
#include "gtest/gtest.h"
#include "tablet/client/tablet_client.h"

namespace shale::gate {
namespace {

constexpr uint32_t kKs2 = 900;  // ks2/0's primary

std::string Create(absl::string_view table) {
  return absl::StrCat("CREATE TABLE ", table, " (id INTEGER PRIMARY KEY, v TEXT)");
}

class GatewayMoveTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.StartTablets(/*replicas=*/1);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE(cluster_.ExecOnPrimaries(Create("t")).ok());
    ASSERT_TRUE(cluster_.ExecOnPrimaries(Create("u")).ok());
    // ks2: unsharded (no sharding column, one shard covering every id).
    ASSERT_TRUE(cluster_.ts().CreateKeyspace("ks2", topodata::Keyspace()).ok());
    ASSERT_TRUE(cluster_.ts().CreateShard("ks2", "0").ok());
    ASSERT_TRUE(cluster_.StartTablet(kKs2, "0", topodata::PRIMARY, "ks2").ok());
    {
      tablet::ExecuteFetchAsDbaRequest dba;
      dba.set_sql(Create("t"));
      auto c = tablet::TabletClient::Connect(
          absl::StrCat("127.0.0.1:", cluster_.tablet(kKs2).grpc_port()));
      auto r = c->Call(c->manager(), &tablet::TabletManager::Stub::ExecuteFetchAsDba, dba);
      ASSERT_TRUE(r.ok()) << r.status();
    }
    s = ctl::RebuildKeyspaceGraph(cluster_.ts(), "ks2", {}, false);
    ASSERT_TRUE(s.ok()) << s;
    GatewayOptions options = GateTestCluster::DefaultOptions();
    options.buffer_window = absl::Seconds(20);
    options.transaction_mode = transaction_mode_;
    s = cluster_.StartGateway(options);
    ASSERT_TRUE(s.ok()) << s;

    std::unique_ptr<GateSession> app = cluster_.Session("app");
    std::unique_ptr<GateSession> ks2 = cluster_.Session("ks2");
    for (const char* sql : {"INSERT INTO t (id, v) VALUES (1, 'app'), (2, 'app')",
                            "INSERT INTO u (id, v) VALUES (1, 'app')"}) {
      absl::StatusOr<tablet::QueryResult> r = RunSql(*app, sql);
      ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
    }
    absl::StatusOr<tablet::QueryResult> r =
        RunSql(*ks2, "INSERT INTO t (id, v) VALUES (1, 'ks2'), (2, 'ks2'), (3, 'ks2')");
    ASSERT_TRUE(r.ok()) << r.status();
  }

  // Replaces app's routing rules by `rules` (table, type, keyspace) and
  // publishes them; waits until the gateway serves them.
  void SetRules(std::vector<std::tuple<std::string, topodata::TabletType, std::string>> rules) {
    absl::StatusOr<topodata::Keyspace> updated =
        cluster_.ts().UpdateKeyspaceFields("app", [&](topodata::Keyspace& ks) {
          ks.clear_routing_rules();
          for (const auto& [table, type, to] : rules) {
            topodata::Keyspace::RoutingRule* rule = ks.add_routing_rules();
            rule->set_table(table);
            rule->set_tablet_type(type);
            rule->set_to_keyspace(to);
          }
          return absl::OkStatus();
        });
    ASSERT_TRUE(updated.ok()) << updated.status();
    absl::Status s = ctl::RebuildKeyspaceGraph(cluster_.ts(), "app", {}, false);
    ASSERT_TRUE(s.ok()) << s;
    std::string want;
    for (const auto& rule : updated->routing_rules()) want += rule.SerializeAsString() + ";";
    ASSERT_TRUE(WaitFor(kWait, [&] {
      absl::StatusOr<KeyspaceSchema> schema = cluster_.gateway().context().schemas->Get("app");
      if (!schema.ok()) return false;
      std::string have;
      for (const auto& rule : schema->srv().routing_rules()) have += rule.SerializeAsString() + ";";
      return have == want;
    }));
  }
  void MoveT() { SetRules({{"t", topodata::PRIMARY, "ks2"}}); }

  // Rows of `table` WHERE where, read straight from app's primaries / ks2's.
  int64_t AppRows(const std::string& table, const std::string& where = "1") {
    int64_t n = 0;
    for (int s = 0; s < 2; ++s) {
      absl::StatusOr<int64_t> c = cluster_.TabletInt(
          TabletUid(s, 0), absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", where));
      EXPECT_TRUE(c.ok()) << c.status();
      n += c.ok() ? *c : 1000000;
    }
    return n;
  }
  int64_t Ks2Rows(const std::string& where = "1") {
    absl::StatusOr<int64_t> c =
        cluster_.TabletInt(kKs2, absl::StrCat("SELECT count(*) FROM t WHERE ", where));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : -1;
  }

  int64_t Int(GateSession& session, absl::string_view sql) {
    absl::StatusOr<int64_t> n = RunSqlInt(session, sql);
    EXPECT_TRUE(n.ok()) << sql << ": " << n.status();
    return n.ok() ? *n : -1;
  }
  void Must(GateSession& session, absl::string_view sql) {
    absl::StatusOr<tablet::QueryResult> r = RunSql(session, sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }

  TransactionMode transaction_mode_ = TransactionMode::kMulti;
  GateTestCluster cluster_;
};

class GatewayMoveTablesSingleTest : public GatewayMoveTablesTest {
 protected:
  void SetUp() override {
    transaction_mode_ = TransactionMode::kSingle;
    GatewayMoveTablesTest::SetUp();
  }
};

TEST_F(GatewayMoveTablesTest, WithoutARuleTheSessionKeyspaceServesTheTable) {
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t"), 2);
  std::unique_ptr<GateSession> ks2 = cluster_.Session("ks2");
  EXPECT_EQ(Int(*ks2, "SELECT count(*) FROM t"), 3);
  // A join of t and u runs as before (both in app, -80 addressed).
  std::unique_ptr<GateSession> low = cluster_.Session("app:-80");
  EXPECT_TRUE(RunSql(*low, "SELECT t.v, u.v FROM t JOIN u ON t.id = u.id").ok());
}

TEST_F(GatewayMoveTablesTest, ARuleRoutesReadsAndWritesOfTheTable) {
  MoveT();
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t"), 3);
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM T"), 3);  // case-insensitive
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t WHERE v = 'ks2'"), 3);
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t WHERE id = 3"), 1);
  Must(*app, "INSERT INTO t (id, v) VALUES (10, 'new')");
  Must(*app, "UPDATE t SET v = 'upd' WHERE id = 1");
  Must(*app, "DELETE FROM t WHERE id = 2");
  EXPECT_EQ(Ks2Rows("id = 10 AND v = 'new'"), 1);
  EXPECT_EQ(Ks2Rows("id = 1 AND v = 'upd'"), 1);
  EXPECT_EQ(Ks2Rows("id = 2"), 0);
  // app's t is untouched.
  EXPECT_EQ(AppRows("t"), 2);
  EXPECT_EQ(AppRows("t", "v = 'app'"), 2);
  // u stays in app; so do statements without tables.
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM u"), 1);
  Must(*app, "INSERT INTO u (id, v) VALUES (11, 'u')");
  EXPECT_EQ(AppRows("u", "id = 11"), 1);
  EXPECT_EQ(Int(*app, "SELECT 7"), 7);
  // ks2's own sessions have no rules.
  std::unique_ptr<GateSession> ks2 = cluster_.Session("ks2");
  EXPECT_EQ(Int(*ks2, "SELECT count(*) FROM t"), 3);
  // A session on one shard ignores the rules.
  std::unique_ptr<GateSession> low = cluster_.Session("app:-80");
  absl::StatusOr<int64_t> on_low =
      cluster_.TabletInt(TabletUid(0, 0), "SELECT count(*) FROM t");
  ASSERT_TRUE(on_low.ok());
  EXPECT_EQ(Int(*low, "SELECT count(*) FROM t"), *on_low);

  // Without the rule, t is app's again.
  SetRules({});
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t"), 2);
}

TEST_F(GatewayMoveTablesTest, AStatementOverTablesOfTwoKeyspacesIsRefused) {
  MoveT();
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  for (const char* sql : {"SELECT t.v, u.v FROM t JOIN u ON t.id = u.id WHERE t.id = 1",
                          "SELECT v FROM u WHERE id IN (SELECT id FROM t)",
                          "INSERT INTO u (id, v) SELECT id, v FROM t",
                          "UPDATE u SET v = 'x' WHERE id IN (SELECT id FROM t)"}) {
    absl::StatusOr<tablet::QueryResult> r = RunSql(*app, sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(SqlState(r.status()), "0A000") << sql << ": " << r.status();
    const std::string msg(r.status().message());
    for (const char* word : {"table t", "table u", "keyspace ks2", "keyspace app"}) {
      EXPECT_NE(msg.find(word), std::string::npos) << word << " in " << msg;
    }
  }
  // The session carries on.
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM u"), 1);
  // On one shard, the rules do not apply: the join runs in app.
  std::unique_ptr<GateSession> low = cluster_.Session("app:-80");
  EXPECT_TRUE(RunSql(*low, "SELECT t.v, u.v FROM t JOIN u ON t.id = u.id").ok());
}

TEST_F(GatewayMoveTablesTest, APrimaryRuleLeavesReplicaSessionsAlone) {
  MoveT();
  ASSERT_TRUE(cluster_.WaitReplicasCaughtUp().ok());
  std::unique_ptr<GateSession> replica = cluster_.Session("app@replica");
  EXPECT_EQ(Int(*replica, "SELECT count(*) FROM t"), 2);
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t"), 3);
  // A REPLICA rule concerns replica sessions only (ks2 has no replica: the
  // statement is routed there and finds no tablet).
  SetRules({{"t", topodata::REPLICA, "ks2"}});
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t"), 2);
  absl::StatusOr<tablet::QueryResult> r = RunSql(*replica, "SELECT count(*) FROM t");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ks2"), absl::string_view::npos) << r.status();
  EXPECT_EQ(Int(*replica, "SELECT count(*) FROM u"), 1);
}

TEST_F(GatewayMoveTablesTest, ATransactionSpansBothKeyspaces) {
  MoveT();
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  Must(*app, "BEGIN");
  Must(*app, "INSERT INTO u (id, v) VALUES (20, 'txn')");
  Must(*app, "INSERT INTO t (id, v) VALUES (20, 'txn')");
  EXPECT_EQ(app->txn_status(), pgwire::TxnStatus::kInBlock);
  // Inside the block, each sees its own write.
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM t WHERE id = 20"), 1);
  EXPECT_EQ(Int(*app, "SELECT count(*) FROM u WHERE id = 20"), 1);
  Must(*app, "COMMIT");
  EXPECT_EQ(app->txn_status(), pgwire::TxnStatus::kIdle);
  EXPECT_EQ(Ks2Rows("id = 20"), 1);
  EXPECT_EQ(AppRows("u", "id = 20"), 1);
  EXPECT_EQ(AppRows("t", "id = 20"), 0);

  // ROLLBACK undoes both; t first this time.
  Must(*app, "BEGIN");
  Must(*app, "INSERT INTO t (id, v) VALUES (21, 'txn')");
  Must(*app, "INSERT INTO u (id, v) VALUES (21, 'txn')");
  Must(*app, "ROLLBACK");
  EXPECT_EQ(app->txn_status(), pgwire::TxnStatus::kIdle);
  EXPECT_EQ(Ks2Rows("id = 21"), 0);
  EXPECT_EQ(AppRows("u", "id = 21"), 0);

  // An error fails the whole block: COMMIT then rolls both back.
  Must(*app, "BEGIN");
  Must(*app, "INSERT INTO u (id, v) VALUES (22, 'txn')");
  Must(*app, "INSERT INTO t (id, v) VALUES (22, 'txn')");
  absl::StatusOr<tablet::QueryResult> dup = RunSql(*app, "INSERT INTO t (id, v) VALUES (1, 'x')");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(app->txn_status(), pgwire::TxnStatus::kFailed);
  absl::StatusOr<pgwire::Result> end = app->ExecuteText("COMMIT", {});
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(end->command_tag, "ROLLBACK");
  EXPECT_EQ(Ks2Rows("id = 22"), 0);
  EXPECT_EQ(AppRows("u", "id = 22"), 0);

  // BEGIN READ ONLY holds for the routed keyspace too.
  Must(*app, "BEGIN READ ONLY");
  absl::StatusOr<tablet::QueryResult> ro = RunSql(*app, "INSERT INTO t (id, v) VALUES (23, 'x')");
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(SqlState(ro.status()), "25006") << ro.status();
  Must(*app, "ROLLBACK");
  EXPECT_EQ(Ks2Rows("id = 23"), 0);
}

TEST_F(GatewayMoveTablesSingleTest, ATransactionModeSingleBlockStaysInOneKeyspace) {
  MoveT();
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  Must(*app, "BEGIN");
  Must(*app, "INSERT INTO u (id, v) VALUES (24, 'txn')");
  absl::StatusOr<tablet::QueryResult> r = RunSql(*app, "INSERT INTO t (id, v) VALUES (24, 'x')");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(SqlState(r.status()), "0A000") << r.status();
  EXPECT_NE(r.status().message().find("single"), absl::string_view::npos) << r.status();
  Must(*app, "ROLLBACK");
  EXPECT_EQ(AppRows("u", "id = 24"), 0);
  // One keyspace per block is fine, the routed one included.
  Must(*app, "BEGIN");
  Must(*app, "INSERT INTO t (id, v) VALUES (24, 'txn')");
  Must(*app, "COMMIT");
  EXPECT_EQ(Ks2Rows("id = 24"), 1);
}

TEST_F(GatewayMoveTablesTest, APreparedStatementFollowsARuleChange) {
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  absl::StatusOr<std::shared_ptr<const pgwire::Statement>> count =
      app->Prepare("SELECT count(*) FROM t WHERE id > $1", {});
  ASSERT_TRUE(count.ok()) << count.status();
  absl::StatusOr<std::shared_ptr<const pgwire::Statement>> insert =
      app->Prepare("INSERT INTO t (id, v) VALUES ($1, 'prep')", {});
  ASSERT_TRUE(insert.ok()) << insert.status();
  tablet::Value zero;
  zero.set_int64(0);
  auto run_count = [&]() -> int64_t {
    absl::StatusOr<pgwire::Result> r = app->Execute(**count, {zero});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->data.rows_size() == 1 ? r->data.rows(0).values(0).int64() : -1;
  };
  EXPECT_EQ(run_count(), 2);
  tablet::Value id;
  id.set_int64(30);
  ASSERT_TRUE(app->Execute(**insert, {id}).ok());
  EXPECT_EQ(AppRows("t", "id = 30"), 1);

  MoveT();
  EXPECT_EQ(run_count(), 3);
  id.set_int64(31);
  ASSERT_TRUE(app->Execute(**insert, {id}).ok());
  EXPECT_EQ(Ks2Rows("id = 31"), 1);
  EXPECT_EQ(AppRows("t", "id = 31"), 0);

  SetRules({});
  EXPECT_EQ(run_count(), 3);  // app's 1, 2 and 30
}

TEST_F(GatewayMoveTablesTest, CopyIntoARoutedTable) {
  MoveT();
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  absl::StatusOr<pgwire::Result> start = app->ExecuteText("COPY t (id, v) FROM STDIN", {});
  ASSERT_TRUE(start.ok()) << start.status();
  ASSERT_TRUE(start->copy_in.has_value());
  ASSERT_TRUE(app->CopyData("40\tcopied\n41\tcopied\n").ok());
  absl::StatusOr<std::string> done = app->CopyDone();
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "COPY 2");
  EXPECT_EQ(Ks2Rows("v = 'copied'"), 2);
  EXPECT_EQ(AppRows("t", "v = 'copied'"), 0);
}

TEST_F(GatewayMoveTablesTest, SchemaChangesOnARoutedTableAreRefused) {
  MoveT();
  std::unique_ptr<GateSession> app = cluster_.Session("app");
  absl::StatusOr<tablet::QueryResult> r = RunSql(*app, "ALTER TABLE t ADD COLUMN w INTEGER");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(SqlState(r.status()), "0A000") << r.status();
  EXPECT_NE(r.status().message().find("ks2"), absl::string_view::npos) << r.status();
  EXPECT_NE(r.status().message().find("MoveTables"), absl::string_view::npos) << r.status();
}

// app/-80's primary refuses every PRIMARY statement as resharded (thawed
// with resharded, as after a primary switch); an INSERT into t that it
// refused waits in the buffer until app's SrvKeyspace routes t to ks2, and
// then runs there.
TEST_F(GatewayMoveTablesTest, ARefusedStatementFollowsTheRuleThatAppears) {
  auto source = tablet::TabletClient::Connect(
      absl::StrCat("127.0.0.1:", cluster_.tablet(TabletUid(0, 0)).grpc_port()));
  tablet::ThawWritesRequest thaw;
  thaw.set_resharded(true);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::ThawWrites, thaw).ok());
  const int64_t id = IdsOnShard(0, 1, 50).front();
  std::atomic<bool> done{false};
  absl::Status result;
  std::thread writer([&] {
    std::unique_ptr<GateSession> session = cluster_.Session("app");
    result =
        RunSql(*session, absl::StrCat("INSERT INTO t (id, v) VALUES (", id, ", 'held')")).status();
    done.store(true);
  });
  ASSERT_TRUE(WaitFor(kWait, [&] { return cluster_.gateway().context().buffer->buffered() == 1; }));
  EXPECT_FALSE(done.load());
  MoveT();
  ASSERT_TRUE(WaitFor(kWait, [&] { return done.load(); }));
  writer.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(Ks2Rows(absl::StrCat("id = ", id)), 1);
  EXPECT_EQ(AppRows("t", absl::StrCat("id = ", id)), 0);
}

// A scattered write that ran on app/80- while app/-80 refused it, and whose
// table then moved: running the rest in ks2 would apply 80-'s part twice
// (the move carried those rows along), so the client gets 40003.
TEST_F(GatewayMoveTablesTest, AWritePartlyRunBeforeTheMoveIsNotRunAgain) {
  auto source = tablet::TabletClient::Connect(
      absl::StrCat("127.0.0.1:", cluster_.tablet(TabletUid(0, 0)).grpc_port()));
  tablet::ThawWritesRequest thaw;
  thaw.set_resharded(true);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::ThawWrites, thaw).ok());
  std::atomic<bool> done{false};
  absl::StatusOr<tablet::QueryResult> result;
  std::thread writer([&] {
    std::unique_ptr<GateSession> session = cluster_.Session("app");
    result = RunSql(*session, "UPDATE t SET v = 'scatter'");
    done.store(true);
  });
  ASSERT_TRUE(WaitFor(kWait, [&] { return cluster_.gateway().context().buffer->buffered() == 1; }));
  MoveT();
  ASSERT_TRUE(WaitFor(kWait, [&] { return done.load(); }));
  writer.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(SqlState(result.status()), "40003") << result.status();
  EXPECT_NE(result.status().message().find("app/80-"), absl::string_view::npos)
      << result.status();
  EXPECT_EQ(Ks2Rows("v = 'scatter'"), 0);
}

}  // namespace
}  // namespace shale::gate
