// Changes.Subscribe (issue 9) between in-process tablets over loopback gRPC:
// events and positions, resuming, filters, heartbeats, refused positions,
// semi-sync visibility and the handover through a planned migration.

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/wait_for.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/engine/sqlite_errors.h"
#include "tablet/replication/log_store.h"
#include "tablet/shard_tablets_test.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(20);

// One Changes.Subscribe call read on a thread of its own; the test looks at
// what arrived so far. Stop (or the destructor) cancels it.
class Subscriber {
 public:
  Subscriber(TabletServer& tablet, SubscribeRequest request)
      : client_(TabletClient::Connect("127.0.0.1:" + std::to_string(tablet.grpc_port()))) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    reader_ = client_->changes().Subscribe(&context_, request);
    thread_ = std::thread([this] {
      SubscribeResponse r;
      while (reader_->Read(&r)) {
        absl::MutexLock lock(&mu_);
        if (r.has_moved_to()) moved_to_.push_back(r.moved_to());
        for (const ChangeEvent& e : r.events()) events_.push_back(e);
      }
      grpc::Status s = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = FromGrpcStatus(s);
      done_ = true;
    });
  }
  ~Subscriber() { Stop(); }

  void Stop() {
    if (!thread_.joinable()) return;
    context_.TryCancel();
    thread_.join();
  }

  std::vector<ChangeEvent> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  // The events other than heartbeats.
  std::vector<ChangeEvent> changes() const {
    std::vector<ChangeEvent> out;
    for (ChangeEvent& e : events()) {
      if (e.op() != HEARTBEAT_EVENT) out.push_back(std::move(e));
    }
    return out;
  }
  std::vector<topodata::TabletAlias> moved_to() const {
    absl::MutexLock lock(&mu_);
    return moved_to_;
  }
  // Waits until the stream ended; its status.
  absl::Status Finished() {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&done_), kWait);
    return done_ ? status_ : absl::DeadlineExceededError("the stream did not end");
  }
  // Waits until at least n change events (not heartbeats) arrived.
  bool WaitChanges(size_t n) {
    return WaitFor(kWait, [&] { return changes().size() >= n; });
  }

 private:
  std::unique_ptr<TabletClient> client_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<SubscribeResponse>> reader_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::vector<ChangeEvent> events_ ABSL_GUARDED_BY(mu_);
  std::vector<topodata::TabletAlias> moved_to_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

SubscribeRequest From(int64_t seq, int64_t term, int row = 0) {
  SubscribeRequest r;
  r.mutable_from()->set_seq(seq);
  r.mutable_from()->set_term(term);
  r.mutable_from()->set_row(row);
  return r;
}

SubscribeRequest FromHere(TabletServer& t) {
  const LogPosition p = t.replication().position().Get();
  return From(p.seq(), p.term());
}

std::string Cols(const google::protobuf::RepeatedPtrField<ColumnValue>& cols) {
  std::string out;
  for (const ColumnValue& c : cols) {
    out += c.name() + "=";
    if (c.value().has_int64()) out += std::to_string(c.value().int64());
    if (c.value().has_text()) out += "'" + c.value().text() + "'";
    if (c.value().has_null()) out += "null";
    out += ";";
  }
  return out;
}

class ChangesTest : public ShardTabletsTest {
 protected:
  void MigrateUnderWriter(bool semi_sync);
  void MustExec(TabletServer& t, const std::string& sql) {
    auto c = Client(t);
    auto r = Exec(*c, sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }
};

TEST_F(ChangesTest, RowChangesAndDdlWithNamesValuesAndPositions) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  Subscriber sub(*p, FromHere(*p));
  MustExec(*p, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  MustExec(*p, "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  MustExec(*p, "UPDATE t SET name = 'uno' WHERE id = 1");
  MustExec(*p, "DELETE FROM t WHERE id = 2");
  ASSERT_TRUE(sub.WaitChanges(6));
  std::vector<ChangeEvent> ev = sub.changes();
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0].op(), DDL_STATEMENT);
  EXPECT_THAT(ev[0].ddl(), HasSubstr("CREATE TABLE t"));
  // The three-row transaction: rows 1, 2 and 0 of one entry.
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(ev[i].op(), INSERT);
    EXPECT_EQ(ev[i].table(), "t");
    EXPECT_EQ(ev[i].position().seq(), ev[1].position().seq());
    EXPECT_EQ(ev[i].position().row(), i == 3 ? 0 : i);
    EXPECT_GT(ev[i].commit_ts_us(), 0);
  }
  EXPECT_EQ(ev[1].position().seq(), ev[0].position().seq() + 1);
  EXPECT_EQ(ev[1].position().term(), p->state().Snapshot().record.primary_term());
  EXPECT_EQ(Cols(ev[2].after()), "id=2;name='two';");
  EXPECT_EQ(Cols(ev[2].pk()), "id=2;");
  EXPECT_EQ(ev[4].op(), UPDATE);
  EXPECT_EQ(Cols(ev[4].before()), "name='one';");
  EXPECT_EQ(Cols(ev[4].after()), "name='uno';");
  EXPECT_EQ(ev[5].op(), DELETE);
  EXPECT_EQ(Cols(ev[5].before()), "id=2;name='two';");

  // Resuming from the first insert gives exactly the rest.
  SubscribeRequest resume;
  *resume.mutable_from() = ev[1].position();
  Subscriber rest(*p, resume);
  ASSERT_TRUE(rest.WaitChanges(4));
  std::vector<ChangeEvent> r = rest.changes();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(Cols(r[0].pk()), "id=2;");
  EXPECT_EQ(r[0].position().row(), 2);
  EXPECT_EQ(Cols(r[1].pk()), "id=3;");
  EXPECT_EQ(r[1].position().row(), 0);
  EXPECT_EQ(r[2].op(), UPDATE);
}

TEST_F(ChangesTest, FromNowFilterAndIdleHeartbeats) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  MustExec(*p, "CREATE TABLE a (id INTEGER PRIMARY KEY)");
  MustExec(*p, "CREATE TABLE b (id INTEGER PRIMARY KEY)");
  MustExec(*p, "INSERT INTO b VALUES (100)");
  SubscribeRequest req;
  req.set_from_now(true);
  req.add_tables("B");
  req.set_heartbeat_ms(50);
  Subscriber sub(*p, req);
  // The first response is a heartbeat at the start.
  ASSERT_TRUE(WaitFor(kWait, [&] { return !sub.events().empty(); }));
  const ChangePosition start = sub.events()[0].position();
  EXPECT_EQ(sub.events()[0].op(), HEARTBEAT_EVENT);
  EXPECT_GE(start.seq(), 3);
  MustExec(*p, "INSERT INTO a VALUES (1)");
  MustExec(*p, "INSERT INTO b VALUES (1)");
  MustExec(*p, "INSERT INTO a VALUES (2)");
  ASSERT_TRUE(sub.WaitChanges(1));
  // Idle: heartbeats keep coming, past the filtered entry of a.
  const int64_t last_a = p->replication().position().seq();
  ASSERT_TRUE(WaitFor(kWait, [&] {
    std::vector<ChangeEvent> ev = sub.events();
    return ev.back().op() == HEARTBEAT_EVENT && ev.back().position().seq() >= last_a;
  }));
  const size_t n = sub.events().size();
  ASSERT_TRUE(WaitFor(kWait, [&] { return sub.events().size() >= n + 3; }));
  std::vector<ChangeEvent> changes = sub.changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].table(), "b");
  EXPECT_EQ(Cols(changes[0].pk()), "id=1;");
  EXPECT_GT(changes[0].position().seq(), start.seq());
  // Positions never go back.
  ChangePosition prev = start;
  for (const ChangeEvent& e : sub.events()) {
    EXPECT_GE(e.position().seq(), prev.seq());
    prev = e.position();
  }
}

TEST_F(ChangesTest, DivergedPurgedAndFuturePositionsAreRefused) {
  auto p = StartTablet(1, topodata::PRIMARY);
  ASSERT_TRUE(p);
  MustExec(*p, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
  MustExec(*p, "INSERT INTO t VALUES (1)");
  const LogPosition now = p->replication().position().Get();

  Subscriber diverged(*p, From(now.seq(), now.term() + 7));
  absl::Status s = diverged.Finished();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("diverged"));

  Subscriber ahead(*p, From(now.seq() + 100, now.term()));
  s = ahead.Finished();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("ahead"));

  ASSERT_TRUE(replication::TrimLog(p->engine(), now.seq()).ok());
  Subscriber purged(*p, From(1, 1));
  s = purged.Finished();
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("purged"));
  Subscriber from_start(*p, From(0, 0));
  EXPECT_EQ(from_start.Finished().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(ChangesTest, ReplicaServesAndWaitsForAPositionItHasNotApplied) {
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  MustExec(*p, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
  WaitCaughtUp(*r, *p);
  r->replication().StopReplication();
  MustExec(*p, "INSERT INTO t VALUES (1)");
  MustExec(*p, "INSERT INTO t VALUES (2)");
  // A position from the primary the replica has not reached: it waits.
  Subscriber sub(*r, FromHere(*p));
  MustExec(*p, "INSERT INTO t VALUES (3)");
  r->replication().StartReplication();
  ASSERT_TRUE(sub.WaitChanges(1));
  std::vector<ChangeEvent> ev = sub.changes();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(Cols(ev[0].pk()), "id=3;");
}

TEST_F(ChangesTest, SemiSyncPrimarySendsOnlyAcknowledgedEntries) {
  ASSERT_NO_FATAL_FAILURE(CreateSemiSyncKeyspace());
  auto p = StartTablet(1, topodata::PRIMARY);
  auto r = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(p && r);
  MustExec(*p, "CREATE TABLE s (id INTEGER PRIMARY KEY)");
  SubscribeRequest req = FromHere(*p);
  req.set_heartbeat_ms(50);
  Subscriber sub(*p, req);
  MustExec(*p, "INSERT INTO s VALUES (1)");
  ASSERT_TRUE(sub.WaitChanges(1));

  r->replication().StopReplication();
  auto c = Client(*p);
  auto unacked = Exec(*c, "INSERT INTO s VALUES (2)");
  ASSERT_FALSE(unacked.ok());
  EXPECT_EQ(engine::SqlState(unacked.status()), "40003") << unacked.status();
  const int64_t seq2 = p->replication().position().seq();
  // Heartbeats go on, none past the last acknowledged entry, and row 2 is
  // not sent while no replica has it.
  const size_t n = sub.events().size();
  ASSERT_TRUE(WaitFor(kWait, [&] { return sub.events().size() >= n + 5; }));
  for (const ChangeEvent& e : sub.events()) EXPECT_LT(e.position().seq(), seq2);
  EXPECT_EQ(sub.changes().size(), 1u);
  // "Now" is the newest acknowledged entry, not the newest one.
  SubscribeRequest now;
  now.set_from_now(true);
  Subscriber from_now(*p, now);
  ASSERT_TRUE(WaitFor(kWait, [&] { return !from_now.events().empty(); }));
  EXPECT_EQ(from_now.events()[0].position().seq(), sub.events().back().position().seq());

  r->replication().StartReplication();
  ASSERT_TRUE(sub.WaitChanges(2));
  EXPECT_EQ(Cols(sub.changes()[1].pk()), "id=2;");
}

// A subscriber on the primary while a writer runs and the primary migrates:
// every committed row exactly once, moved_to the new primary, and the events
// written there.
void ChangesTest::MigrateUnderWriter(bool semi_sync) {
  if (semi_sync) {
    ASSERT_NO_FATAL_FAILURE(CreateSemiSyncKeyspace());
  }
  auto a = StartTablet(1, topodata::PRIMARY);
  auto b = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(a && b);
  MustExec(*a, "CREATE TABLE w (id INTEGER PRIMARY KEY, writer INTEGER)");
  WaitCaughtUp(*b, *a);
  Subscriber sub(*a, FromHere(*a));

  std::atomic<bool> stop{false};
  std::atomic<int64_t> next_id{1};
  absl::Mutex acked_mu;
  std::set<int64_t> acked;
  std::thread writer([&] {
    auto client = Client(*a);  // the tunnel forwards after the migration
    while (!stop.load()) {
      const int64_t id = next_id.fetch_add(1);
      if (Exec(*client, "INSERT INTO w VALUES (" + std::to_string(id) + ", 0)").ok()) {
        absl::MutexLock lock(&acked_mu);
        acked.insert(id);
      }
    }
  });
  const int64_t t0 = a->state().Snapshot().record.primary_term();
  ASSERT_TRUE(sub.WaitChanges(20));
  auto resp = Migrate(*a, *b, t0 + 1);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(b->state().type(), topodata::PRIMARY);
  // The subscription moves to b and keeps receiving what is written there.
  ASSERT_TRUE(WaitFor(kWait, [&] { return !sub.moved_to().empty(); }));
  EXPECT_EQ(sub.moved_to()[0].uid(), 2u);
  ASSERT_TRUE(WaitFor(kWait, [&] {
    for (const ChangeEvent& e : sub.changes()) {
      if (e.position().term() == t0 + 1) return true;
    }
    return false;
  }));
  MustExec(*b, "INSERT INTO w VALUES (-1, 1)");
  stop.store(true);
  writer.join();

  // Every committed row exactly once, nothing else.
  auto rows = b->engine().ExecuteInternal("SELECT id FROM w ORDER BY id");
  ASSERT_TRUE(rows.ok());
  std::multiset<int64_t> want;
  for (const auto& row : rows->rows) want.insert(row[0].int64());
  {
    absl::MutexLock lock(&acked_mu);
    for (int64_t id : acked) EXPECT_TRUE(want.contains(id)) << id;
  }
  std::multiset<int64_t> got;
  ASSERT_TRUE(WaitFor(kWait, [&] {
    got.clear();
    for (const ChangeEvent& e : sub.changes()) {
      if (e.op() == INSERT && e.table() == "w") got.insert(e.pk(0).value().int64());
    }
    return got.size() >= want.size();
  }));
  EXPECT_EQ(got, want);
  EXPECT_EQ(sub.moved_to().size(), 1u);
  ChangePosition prev;
  for (const ChangeEvent& e : sub.events()) {
    EXPECT_GE(e.position().seq(), prev.seq());
    prev = e.position();
  }
}

TEST_F(ChangesTest, UnreachableNewPrimaryLeavesTheSubscriptionOnTheOldOne) {
  auto a = StartTablet(1, topodata::PRIMARY);
  auto b = StartTablet(2, topodata::REPLICA);
  ASSERT_TRUE(a && b);
  MustExec(*a, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
  WaitCaughtUp(*b, *a);
  SubscribeRequest req = FromHere(*a);
  req.set_heartbeat_ms(50);
  MustExec(*a, "INSERT INTO t VALUES (1)");
  const int64_t t0 = a->state().Snapshot().record.primary_term();
  auto resp = Migrate(*a, *b, t0 + 1);
  ASSERT_TRUE(resp.ok()) << resp.status();
  const int64_t change_config = resp->change_config().seq();
  b->Stop();
  // a would hand the subscription over at the CHANGE_CONFIG, but b is gone:
  // it goes on from its own log.
  Subscriber sub(*a, req);
  ASSERT_TRUE(sub.WaitChanges(1));
  ASSERT_TRUE(WaitFor(kWait, [&] {
    std::vector<ChangeEvent> ev = sub.events();
    return ev.back().position().seq() >= change_config;
  }));
  const size_t n = sub.events().size();
  ASSERT_TRUE(WaitFor(kWait, [&] { return sub.events().size() >= n + 3; }));
  EXPECT_TRUE(sub.moved_to().empty());
  EXPECT_EQ(Cols(sub.changes()[0].pk()), "id=1;");
}

TEST_F(ChangesTest, PlannedMigrationHandsTheSubscriptionOver) { MigrateUnderWriter(false); }

TEST_F(ChangesTest, PlannedMigrationUnderSemiSyncHandsTheSubscriptionOver) {
  MigrateUnderWriter(true);
}

}  // namespace
}  // namespace shale::tablet
