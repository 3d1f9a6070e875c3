// End-to-end tests of the query path of `shale tablet` processes: writes to a
// replica, idle transaction timeout, readers beside a long write.

#include <thread>

#include "gmock/gmock.h"
#include "tablet/engine/sqlite_errors.h"
#include "tests/e2e/tablet_fixture.h"

namespace shale::e2e {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<tablet::ExecuteResponse> Exec(tablet::TabletClient& c, const tablet::Target& target,
                                             const std::string& sql, int64_t txn = 0) {
  tablet::ExecuteRequest req;
  *req.mutable_target() = target;
  req.set_sql(sql);
  req.set_transaction_id(txn);
  return c.Call(c.query(), &tablet::Query::Stub::Execute, req, absl::Seconds(10));
}

TEST_F(TabletE2eTest, WriteToReplicaIsRejected) {
  StartTablet("zone1-101", {"--keyspace", "app", "--shard", "0", "--init-type", "primary"});
  StartTablet("zone1-102", {"--keyspace", "app", "--shard", "0", "--init-type", "replica"});
  CliResult r = Ctl({"ExecuteFetchAsDba", "zone1-102", "CREATE TABLE t (id INTEGER PRIMARY KEY)"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("read-only"));

  auto c = Client("zone1-102");
  ASSERT_NE(c, nullptr);
  auto w = Exec(*c, MakeTarget("app", "0", topodata::REPLICA), "CREATE TABLE t (id INTEGER PRIMARY KEY)");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tablet::engine::SqlState(w.status()), "25006");
  // Misrouted: a primary-targeted call to the replica.
  auto m = Exec(*c, MakeTarget("app", "0", topodata::PRIMARY), "SELECT 1");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(m.status().message(), HasSubstr("app/0@REPLICA"));
}

TEST_F(TabletE2eTest, IdleTransactionTimesOutAndIsRolledBack) {
  StartTablet("zone1-101", {"--keyspace", "app", "--shard", "0", "--init-type", "primary",
                            "--txn-idle-timeout", "0.5"});
  auto c = Client("zone1-101");
  ASSERT_NE(c, nullptr);
  const tablet::Target target = MakeTarget("app", "0", topodata::PRIMARY);
  ASSERT_TRUE(Exec(*c, target, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  tablet::BeginRequest b;
  *b.mutable_target() = target;
  auto begun = c->Call(c->query(), &tablet::Query::Stub::Begin, b);
  ASSERT_TRUE(begun.ok()) << begun.status();
  ASSERT_TRUE(Exec(*c, target, "INSERT INTO t VALUES (1)", begun->transaction_id()).ok());

  EXPECT_TRUE(WaitFor(absl::Seconds(20), [&] {
    auto st = c->Call(c->manager(), &tablet::TabletManager::Stub::GetState,
                      tablet::GetStateRequest());
    return st.ok() && st->state().open_transactions() == 0;
  }));
  tablet::CommitRequest commit;
  *commit.mutable_target() = target;
  commit.set_transaction_id(begun->transaction_id());
  auto committed = c->Call(c->query(), &tablet::Query::Stub::Commit, commit);
  EXPECT_EQ(committed.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(tablet::engine::SqlState(committed.status()), "25P03");
  auto rows = Exec(*c, target, "SELECT count(*) FROM t");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->result().rows(0).values(0).int64(), 0);
}

TEST_F(TabletE2eTest, ReadersRunWhileAWriteTransactionIsOpen) {
  StartTablet("zone1-101", {"--keyspace", "app", "--shard", "0", "--init-type", "primary"});
  auto c = Client("zone1-101");
  ASSERT_NE(c, nullptr);
  const tablet::Target target = MakeTarget("app", "0", topodata::PRIMARY);
  ASSERT_TRUE(Exec(*c, target, "CREATE TABLE t (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Exec(*c, target, "INSERT INTO t VALUES (1)").ok());

  // A long write: a transaction holds the writer until we commit it.
  tablet::BeginRequest b;
  *b.mutable_target() = target;
  auto begun = c->Call(c->query(), &tablet::Query::Stub::Begin, b);
  ASSERT_TRUE(begun.ok());
  ASSERT_TRUE(Exec(*c, target, "INSERT INTO t VALUES (2)", begun->transaction_id()).ok());

  // Readers on 4 threads finish while it is open, and see committed data only.
  std::vector<std::thread> readers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        auto r = Exec(*c, target, "SELECT count(*) FROM t");
        if (r.ok() && r->result().rows(0).values(0).int64() == 1) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(ok.load(), 40);
  auto st = c->Call(c->manager(), &tablet::TabletManager::Stub::GetState, tablet::GetStateRequest());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state().open_transactions(), 1);  // the write was open throughout

  tablet::CommitRequest commit;
  *commit.mutable_target() = target;
  commit.set_transaction_id(begun->transaction_id());
  ASSERT_TRUE(c->Call(c->query(), &tablet::Query::Stub::Commit, commit).ok());
  EXPECT_EQ(Exec(*c, target, "SELECT count(*) FROM t")->result().rows(0).values(0).int64(), 2);
}

}  // namespace
}  // namespace shale::e2e
