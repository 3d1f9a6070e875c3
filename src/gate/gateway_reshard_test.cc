// The gateway across the primary switch of a reshard (docs/resharding.md,
// "The primary switch"): app/-80 is split into -40 and 40-80 while clients
// write through the gateway. The source is frozen (FreezeWrites), the Shard
// records flip PRIMARY to the targets, the SrvKeyspace is rebuilt and the
// source thaws with resharded: the statements that waited, or that reach the
// source later, are re-planned on the new shards; no client sees an error.
//
// The rows are not copied between the layouts (that is filtered
// replication's job): the tables exist on every shard and the test checks
// where each acknowledged row landed.

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/sqlstate.h"
#include "base/wait_for.h"
#include "ctl/rebuild.h"
#include "gate/gateway_test_env.h"
#include "gtest/gtest.h"
#include "key/key_range.h"
#include "key/vindex.h"
#include "tablet/client/resharded.h"
#include "tablet/client/tablet_client.h"

namespace shale::gate {
namespace {

constexpr uint32_t kSource = 100;  // app/-80's primary (GateTestCluster)
constexpr uint32_t kLow = 500;     // app/-40
constexpr uint32_t kHigh = 600;    // app/40-80

class GatewayReshardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.StartTablets(/*replicas=*/0);
    ASSERT_TRUE(s.ok()) << s;
    // The targets overlap -80: created serving nothing.
    ASSERT_TRUE(cluster_.ts().CreateShard("app", "-40").ok());
    ASSERT_TRUE(cluster_.ts().CreateShard("app", "40-80").ok());
    ASSERT_TRUE(cluster_.StartTablet(kLow, "-40", topodata::PRIMARY).ok());
    ASSERT_TRUE(cluster_.StartTablet(kHigh, "40-80", topodata::PRIMARY).ok());
    s = cluster_.ExecOnPrimaries("CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
    ASSERT_TRUE(s.ok()) << s;
    for (uint32_t uid : {kLow, kHigh}) {
      tablet::ExecuteFetchAsDbaRequest dba;
      dba.set_sql("CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
      auto c = Client(uid);
      ASSERT_TRUE(c->Call(c->manager(), &tablet::TabletManager::Stub::ExecuteFetchAsDba, dba).ok());
    }
    GatewayOptions options = GateTestCluster::DefaultOptions();
    options.buffer_window = window_;
    s = cluster_.StartGateway(options);
    ASSERT_TRUE(s.ok()) << s;
  }

  std::unique_ptr<tablet::TabletClient> Client(uint32_t uid) {
    return tablet::TabletClient::Connect(
        absl::StrCat("127.0.0.1:", cluster_.tablet(uid).grpc_port()));
  }

  // PRIMARY moves from -80 to -40 and 40-80 in the Shard records, and the
  // serving graph is rebuilt (SwitchTraffic's flip).
  void FlipPrimary() {
    auto set = [&](const std::string& shard, bool primary) {
      ASSERT_TRUE(cluster_.ts()
                      .UpdateShardFields("app", shard,
                                         [&](topodata::Shard& s) {
                                           google::protobuf::RepeatedPtrField<
                                               topodata::Shard::ServedType>
                                               kept;
                                           for (const auto& st : s.served_types()) {
                                             if (st.tablet_type() != topodata::PRIMARY) {
                                               *kept.Add() = st;
                                             }
                                           }
                                           *s.mutable_served_types() = kept;
                                           if (primary) {
                                             s.add_served_types()->set_tablet_type(
                                                 topodata::PRIMARY);
                                           }
                                           return absl::OkStatus();
                                         })
                      .ok());
    };
    ASSERT_NO_FATAL_FAILURE(set("-80", false));
    ASSERT_NO_FATAL_FAILURE(set("-40", true));
    ASSERT_NO_FATAL_FAILURE(set("40-80", true));
    absl::Status s = ctl::RebuildKeyspaceGraph(cluster_.ts(), "app", {}, false);
    ASSERT_TRUE(s.ok()) << s;
  }

  int64_t Rows(uint32_t uid, const std::string& where = "1") {
    absl::StatusOr<int64_t> n = cluster_.TabletInt(uid, "SELECT count(*) FROM kv WHERE " + where);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  absl::Duration window_ = absl::Seconds(20);
  GateTestCluster cluster_;
};

class GatewayReshardShortWindowTest : public GatewayReshardTest {
 protected:
  void SetUp() override {
    window_ = absl::Milliseconds(300);
    GatewayReshardTest::SetUp();
  }
};

TEST_F(GatewayReshardTest, WritesFollowThePrimarySwitchWithoutAClientError) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> errors{0};
  absl::Mutex error_mu;
  std::string first_error;
  std::vector<std::thread> writers;
  constexpr int kWriters = 4;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::unique_ptr<GateSession> session = cluster_.Session("app");
      for (int64_t i = 0; !stop.load(); ++i) {
        const int64_t id = w * 10000000 + i;
        absl::Status s;
        if (w == 0 && i % 2 == 1) {
          // Explicit transactions: their first statement may meet the switch.
          s = RunSql(*session, "BEGIN").status();
          if (s.ok()) {
            s = RunSql(*session, absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", 1)"))
                    .status();
          }
          if (s.ok()) s = RunSql(*session, "COMMIT").status();
          if (!s.ok()) RunSql(*session, "ROLLBACK").IgnoreError();
        } else {
          s = RunSql(*session, absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", 1)"))
                  .status();
        }
        if (s.ok()) {
          acked.fetch_add(1);
        } else {
          errors.fetch_add(1);
          absl::MutexLock l(&error_mu);
          if (first_error.empty()) first_error = s.ToString();
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return acked.load() > 200; }));

  // SwitchTraffic --tablet-types primary, without the streams.
  auto source = Client(kSource);
  tablet::FreezeWritesRequest freeze;
  freeze.set_max_freeze_ms(20000);
  freeze.set_grace_ms(2000);
  auto frozen = source->Call(source->reshard(), &tablet::Reshard::Stub::FreezeWrites, freeze);
  ASSERT_TRUE(frozen.ok()) << frozen.status();
  // Writers pile up at the source's gate.
  ASSERT_TRUE(WaitFor(absl::Seconds(10),
                      [&] { return cluster_.tablet(kSource).write_gate().waiting() >= 1; }));
  const int64_t source_rows = Rows(kSource);
  ASSERT_NO_FATAL_FAILURE(FlipPrimary());
  tablet::ThawWritesRequest thaw;
  thaw.set_resharded(true);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::ThawWrites, thaw).ok());

  // Writes go on, now on the new shards.
  const int64_t acked_at_thaw = acked.load();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    return acked.load() > acked_at_thaw + 200 && Rows(kLow) > 20 && Rows(kHigh) > 20;
  }));
  stop.store(true);
  for (auto& t : writers) t.join();

  EXPECT_EQ(errors.load(), 0) << first_error;
  // Nothing more landed on the source after its freeze.
  EXPECT_EQ(Rows(kSource), source_rows);
  // Every acknowledged row is on exactly one shard, and on the right one.
  const int64_t total = Rows(kSource) + Rows(kLow) + Rows(kHigh) + Rows(200);
  EXPECT_EQ(total, acked.load());
  const key::KeyRange low = *key::KeyRange::Parse("-40");
  const key::KeyRange high = *key::KeyRange::Parse("40-80");
  for (auto [uid, range] : {std::pair{kLow, low}, std::pair{kHigh, high}}) {
    absl::StatusOr<tablet::engine::ResultSet> ids =
        cluster_.tablet(uid).engine().ExecuteInternal("SELECT id FROM kv");
    ASSERT_TRUE(ids.ok()) << ids.status();
    for (const auto& row : ids->rows) {
      ASSERT_TRUE(range.Contains(key::HashInt64(row[0].int64())))
          << "id " << row[0].int64() << " on shard " << range.ToString();
    }
  }
  // The buffer held the re-planned statements (the writers that waited at
  // the frozen source at least) and let them go.
  EXPECT_EQ(cluster_.gateway().context().buffer->buffered(), 0);
  const std::string metrics = cluster_.gateway().registry().RenderPrometheus();
  const std::string released = "shale_gate_buffer_requests_total{result=\"released\"} ";
  const size_t at = metrics.find(released);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stod(metrics.substr(at + released.size())), 1.0);
  EXPECT_EQ(metrics.find("shale_gate_buffer_requests_total{result=\"timeout\"} 1"),
            std::string::npos);

  // Reads are re-planned too, and a scatter sees every row.
  std::unique_ptr<GateSession> session = cluster_.Session("app");
  absl::StatusOr<int64_t> count = RunSqlInt(*session, "SELECT count(*) FROM kv");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, Rows(kLow) + Rows(kHigh) + Rows(200));
}

TEST_F(GatewayReshardTest, AStatementTheSourceRefusesWaitsForTheNewServingGraph) {
  // The source already thawed as resharded but the SrvKeyspace is not
  // rebuilt yet: the statement waits in the buffer until it is.
  auto source = Client(kSource);
  tablet::ThawWritesRequest thaw;
  thaw.set_resharded(true);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::ThawWrites, thaw).ok());
  const int64_t id = IdsOnShard(0, 1).front();
  std::atomic<bool> done{false};
  absl::Status result;
  std::thread writer([&] {
    std::unique_ptr<GateSession> session = cluster_.Session("app");
    result = RunSql(*session, absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", 7)")).status();
    done.store(true);
  });
  ASSERT_TRUE(WaitFor(absl::Seconds(10),
                      [&] { return cluster_.gateway().context().buffer->buffered() == 1; }));
  EXPECT_FALSE(done.load());
  ASSERT_NO_FATAL_FAILURE(FlipPrimary());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return done.load(); }));
  writer.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(Rows(kLow, absl::StrCat("id = ", id)) + Rows(kHigh, absl::StrCat("id = ", id)), 1);
  EXPECT_EQ(Rows(kSource), 0);
}

// A scattered write: 80- runs it at once, -80 refuses it (already thawed as
// resharded); after the flip only -40 and 40-80 run it, so every row is
// updated exactly once.
TEST_F(GatewayReshardTest, AScatteredWriteRunsOnceOnEveryShard) {
  std::unique_ptr<GateSession> session = cluster_.Session("app");
  const std::vector<int64_t> low = IdsOnShard(0, 6);
  const std::vector<int64_t> high = IdsOnShard(1, 6);
  for (int64_t id : high) {
    ASSERT_TRUE(RunSql(*session, absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", 0)")).ok());
  }
  // The rows of -80's range already sit on the targets (as the copy would
  // have put them there).
  for (int64_t id : low) {
    const uint32_t uid = key::KeyRange::Parse("-40")->Contains(key::HashInt64(id)) ? kLow : kHigh;
    ASSERT_TRUE(cluster_.tablet(uid)
                    .engine()
                    .ExecuteInternal(absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", 0)"))
                    .ok());
  }
  auto source = Client(kSource);
  tablet::ThawWritesRequest thaw;
  thaw.set_resharded(true);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::ThawWrites, thaw).ok());
  std::atomic<bool> done{false};
  absl::StatusOr<pgwire::Result> result;
  std::thread writer([&] {
    std::unique_ptr<GateSession> s = cluster_.Session("app");
    result = s->ExecuteText("UPDATE kv SET v = v + 1", {});
    done.store(true);
  });
  ASSERT_TRUE(WaitFor(absl::Seconds(10),
                      [&] { return cluster_.gateway().context().buffer->buffered() == 1; }));
  ASSERT_NO_FATAL_FAILURE(FlipPrimary());
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return done.load(); }));
  writer.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->command_tag, "UPDATE 12");
  EXPECT_EQ(Rows(200, "v = 1"), 6) << Rows(200, "v = 0") << " " << Rows(200, "v = 2") << " "
                                   << Rows(200);
  EXPECT_EQ(Rows(kLow, "v = 1") + Rows(kHigh, "v = 1"), 6);
  EXPECT_EQ(Rows(200, "v <> 1") + Rows(kLow, "v <> 1") + Rows(kHigh, "v <> 1"), 0);
}

// Inside a transaction: a shard first used after the switch is re-planned;
// a transaction that already wrote on the old shard fails with 40001.
TEST_F(GatewayReshardTest, TransactionsAcrossTheSwitch) {
  const std::vector<int64_t> low = IdsOnShard(0, 3);
  const std::vector<int64_t> high = IdsOnShard(1, 1);
  std::unique_ptr<GateSession> old_txn = cluster_.Session("app");
  ASSERT_TRUE(RunSql(*old_txn, "BEGIN").ok());
  ASSERT_TRUE(
      RunSql(*old_txn, absl::StrCat("INSERT INTO kv (id, v) VALUES (", low[1], ", 9)")).ok());

  std::unique_ptr<GateSession> session = cluster_.Session("app");
  ASSERT_TRUE(RunSql(*session, "BEGIN").ok());
  ASSERT_TRUE(
      RunSql(*session, absl::StrCat("INSERT INTO kv (id, v) VALUES (", high[0], ", 1)")).ok());

  // The switch: freeze (old_txn is rolled back after the grace), flip, thaw.
  auto source = Client(kSource);
  tablet::FreezeWritesRequest freeze;
  freeze.set_grace_ms(100);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::FreezeWrites, freeze).ok());
  ASSERT_NO_FATAL_FAILURE(FlipPrimary());
  tablet::ThawWritesRequest thaw;
  thaw.set_resharded(true);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::ThawWrites, thaw).ok());

  // -80 is this transaction's new shard: re-planned onto -40 or 40-80.
  absl::StatusOr<tablet::QueryResult> moved =
      RunSql(*session, absl::StrCat("INSERT INTO kv (id, v) VALUES (", low[0], ", 1)"));
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_TRUE(RunSql(*session, "COMMIT").ok());
  EXPECT_EQ(Rows(200, absl::StrCat("id = ", high[0])), 1);
  EXPECT_EQ(Rows(kLow, absl::StrCat("id = ", low[0])) + Rows(kHigh, absl::StrCat("id = ", low[0])),
            1);

  // old_txn wrote on -80 before the switch: once the gateway knows of the
  // switch (its SrvKeyspace watch may deliver it after the re-planned
  // statement above, which waited for any change), the transaction's next
  // write fails with a retryable 40001 naming the reshard, even on a shard
  // that still serves.
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    absl::StatusOr<KeyspaceSchema> schema = cluster_.gateway().context().schemas->Get("app");
    if (!schema.ok()) return false;
    absl::StatusOr<std::vector<ShardRef>> shards = schema->Shards(topodata::PRIMARY);
    return shards.ok() && shards->size() == 3 && shards->front().name == "-40";
  }));
  const int64_t other = IdsOnShard(1, 2)[1];
  absl::StatusOr<tablet::QueryResult> lost =
      RunSql(*old_txn, absl::StrCat("INSERT INTO kv (id, v) VALUES (", other, ", 9)"));
  ASSERT_FALSE(lost.ok()) << "the write of a transaction begun on -80 ran: " << lost->DebugString();
  EXPECT_EQ(SqlState(lost.status()), "40001") << lost.status();
  EXPECT_NE(lost.status().message().find("app/-80"), absl::string_view::npos) << lost.status();
  EXPECT_NE(lost.status().message().find("resharding"), absl::string_view::npos)
      << lost.status();
  ASSERT_TRUE(RunSql(*old_txn, "ROLLBACK").ok());
  EXPECT_EQ(Rows(200, absl::StrCat("id = ", other)), 0);
  // The retry, on the new layout, commits.
  ASSERT_TRUE(RunSql(*old_txn, "BEGIN").ok());
  ASSERT_TRUE(
      RunSql(*old_txn, absl::StrCat("INSERT INTO kv (id, v) VALUES (", low[2], ", 9)")).ok());
  ASSERT_TRUE(
      RunSql(*old_txn, absl::StrCat("INSERT INTO kv (id, v) VALUES (", other, ", 9)")).ok());
  ASSERT_TRUE(RunSql(*old_txn, "COMMIT").ok());
  EXPECT_EQ(Rows(200, absl::StrCat("id = ", other)), 1);
  EXPECT_EQ(Rows(kSource), 0);
}

TEST_F(GatewayReshardShortWindowTest, WithoutANewServingGraphTheBufferWindowEnds) {
  auto source = Client(kSource);
  tablet::ThawWritesRequest thaw;
  thaw.set_resharded(true);
  ASSERT_TRUE(source->Call(source->reshard(), &tablet::Reshard::Stub::ThawWrites, thaw).ok());
  std::unique_ptr<GateSession> session = cluster_.Session("app");
  const int64_t id = IdsOnShard(0, 1).front();
  absl::StatusOr<tablet::QueryResult> r =
      RunSql(*session, absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", 7)"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_NE(r.status().message().find("resharded"), absl::string_view::npos) << r.status();
}

}  // namespace
}  // namespace shale::gate
