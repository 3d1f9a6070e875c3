// The Gateway in-process (gateway_test_env.h): real tablets over loopback
// gRPC, the memory topology, GateSessions as clients. What a gateway must do
// without its topology, with tablets coming and going, and across a planned
// primary change.

#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "ctl/reparent.h"
#include "gate/gateway_test_env.h"
#include "gate_service.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "key/vindex.h"

namespace shale::gate {
namespace {

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = cluster_.StartTablets();
    ASSERT_TRUE(s.ok()) << s;
    GatewayOptions options = GateTestCluster::DefaultOptions();
    options.grpc_port = 0;
    s = cluster_.StartGateway(options);
    ASSERT_TRUE(s.ok()) << s;
  }

  // Runs sql; a failure is a (non-fatal) test failure and an empty result.
  static tablet::QueryResult MustRun(GateSession& session, absl::string_view sql) {
    absl::StatusOr<tablet::QueryResult> r = RunSql(session, sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    return r.ok() ? *std::move(r) : tablet::QueryResult();
  }

  // Creates kv (id, v) with row (id, v) for each id, then waits until the
  // replicas have them.
  void CreateKv(const std::vector<int64_t>& ids, int64_t v) {
    std::unique_ptr<GateSession> s = cluster_.Session("app");
    absl::Status created =
        cluster_.ExecOnPrimaries("CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
    ASSERT_TRUE(created.ok()) << created;
    for (int64_t id : ids) {
      MustRun(*s, absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", ", v, ")"));
    }
    absl::Status caught_up = cluster_.WaitReplicasCaughtUp();
    ASSERT_TRUE(caught_up.ok()) << caught_up;
  }

  // The state column of SHOW TABLETS for alias, or "" when it is not listed.
  static std::string ShowTabletsState(GateSession& session, absl::string_view alias) {
    tablet::QueryResult r = MustRun(session, "SHOW TABLETS");
    int alias_col = -1, state_col = -1;
    for (int i = 0; i < r.fields_size(); ++i) {
      if (r.fields(i).name() == "alias") alias_col = i;
      if (r.fields(i).name() == "state") state_col = i;
    }
    if (alias_col < 0 || state_col < 0) return "";
    for (const tablet::Row& row : r.rows()) {
      if (row.values(alias_col).text() == alias) return row.values(state_col).text();
    }
    return "";
  }

  // Gate.Execute over the gateway's gRPC port.
  grpc::Status GateExecute(const ExecuteRequest& request, ExecuteResponse* response) {
    if (stub_ == nullptr) {
      stub_ = Gate::NewStub(
          grpc::CreateChannel(absl::StrCat("127.0.0.1:", cluster_.gateway().grpc_port()),
                              grpc::InsecureChannelCredentials()));
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Execute(&context, request, response);
  }
  // A Gate.Execute request for sql in keyspace app, without targets.
  static ExecuteRequest AppRequest(const std::string& sql) {
    ExecuteRequest request;
    request.set_keyspace("app");
    request.set_sql(sql);
    return request;
  }

  GateTestCluster cluster_;
  std::unique_ptr<Gate::Stub> stub_;
};

// Checks a one-integer result (RunSqlInt, TabletInt): it came back, and is want.
void ExpectValue(const absl::StatusOr<int64_t>& got, int64_t want, absl::string_view what) {
  ASSERT_TRUE(got.ok()) << what << ": " << got.status();
  EXPECT_EQ(*got, want) << what;
}

TEST_F(GatewayTest, SteadyStateMakesNoTopologyReads) {
  std::vector<int64_t> ids[2] = {IdsOnShard(0, 26), IdsOnShard(1, 26)};
  // The first row of each shard is there before counting; the others are
  // written while counting.
  ASSERT_NO_FATAL_FAILURE(CreateKv({ids[0][0], ids[1][0]}, 5));
  std::unique_ptr<GateSession> primary = cluster_.Session("app");
  std::unique_ptr<GateSession> replica = cluster_.Session("app@replica");
  for (int s = 0; s < 2; ++s) {
    const std::string q = absl::StrCat("SELECT v FROM kv WHERE id = ", ids[s][0]);
    ExpectValue(RunSqlInt(*primary, q), 5, q);
    ExpectValue(RunSqlInt(*replica, q), 5, q);
  }

  const int64_t reads = cluster_.memory().read_count();
  int statements = 0;
  for (int i = 1; i <= 25; ++i) {
    for (int s = 0; s < 2; ++s) {
      const int64_t id = ids[s][i];
      MustRun(*primary, absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", ", i, ")"));
      MustRun(*primary, absl::StrCat("UPDATE kv SET v = v + 1 WHERE id = ", id));
      const std::string q = absl::StrCat("SELECT v FROM kv WHERE id = ", id);
      ExpectValue(RunSqlInt(*primary, q), i + 1, q);
      const std::string rq = absl::StrCat("SELECT v FROM kv WHERE id = ", ids[s][0]);
      ExpectValue(RunSqlInt(*replica, rq), 5, rq);
      statements += 4;
    }
    if (i % 5 == 0) {
      ExpectValue(RunSqlInt(*primary, "SELECT count(*) FROM kv"), 2 + 2 * i, "scatter count");
      ++statements;
    }
  }
  EXPECT_EQ(cluster_.memory().read_count(), reads)
      << "topology reads while serving " << statements << " statements";

  // Health messages keep coming; none of them makes the gateway read.
  const int64_t updates = cluster_.gateway().health().Stats().health_updates;
  bool read_meanwhile = false;
  ASSERT_TRUE(WaitUntil([&] {
    read_meanwhile = read_meanwhile || cluster_.memory().read_count() != reads;
    return cluster_.gateway().health().Stats().health_updates >= updates + 10;
  }));
  EXPECT_FALSE(read_meanwhile);
  EXPECT_EQ(cluster_.memory().read_count(), reads);
  // The counter does see the gateway's reads: SHOW KEYSPACES lists them
  // from the topology.
  MustRun(*primary, "SHOW KEYSPACES");
  EXPECT_GT(cluster_.memory().read_count(), reads);
}

TEST_F(GatewayTest, NewReplicaTakesTrafficWithinAboutASecond) {
  const int64_t id = IdsOnShard(0, 1)[0];
  ASSERT_NO_FATAL_FAILURE(CreateKv({id}, 7));
  std::unique_ptr<GateSession> session = cluster_.Session("app");
  const uint32_t uid = TabletUid(0, 2);
  const std::string alias = absl::StrCat("zone1-", uid);
  ASSERT_EQ(ShowTabletsState(*session, alias), "");

  const absl::Time start = absl::Now();
  absl::StatusOr<tablet::TabletServer*> added = cluster_.StartTablet(uid, "-80", topodata::REPLICA);
  ASSERT_TRUE(added.ok()) << added.status();
  const absl::Time registered = absl::Now();
  ASSERT_TRUE(WaitUntil([&] { return ShowTabletsState(*session, alias) == "SERVING"; }))
      << "SHOW TABLETS says " << ShowTabletsState(*session, alias);
  const absl::Duration to_serving = absl::Now() - registered;

  // Once it has the row, replica reads (one of two replicas, at random)
  // reach it: its own query counter moves.
  absl::Status caught_up = cluster_.WaitReplicasCaughtUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up;
  std::unique_ptr<GateSession> replica = cluster_.Session("app@replica");
  const int64_t before = (*added)->stats().total();
  const std::string q = absl::StrCat("SELECT v FROM kv WHERE id = ", id);
  int reads = 0;
  std::string bad;
  ASSERT_TRUE(WaitUntil([&] {
    ++reads;
    absl::StatusOr<int64_t> v = RunSqlInt(*replica, q);
    if (bad.empty() && !(v.ok() && *v == 7))
      bad = v.ok() ? absl::StrCat(*v) : v.status().ToString();
    return (*added)->stats().total() > before;
  })) << reads
      << " replica reads, none on " << alias;
  EXPECT_EQ(bad, "");
  const absl::Duration to_traffic = absl::Now() - start;
  std::cout << "[ measured ] " << alias << " SERVING at the gateway " << to_serving
            << " after its record was written (start took " << registered - start
            << "); first replica read on it " << to_traffic << " after start, read #" << reads
            << "\n";
  RecordProperty("to_serving_ms", static_cast<int>(absl::ToInt64Milliseconds(to_serving)));
}

TEST_F(GatewayTest, TopologyOutageNeverDropsKnownTablets) {
  std::vector<int64_t> ids[2] = {IdsOnShard(0, 1), IdsOnShard(1, 1)};
  ASSERT_NO_FATAL_FAILURE(CreateKv({ids[0][0], ids[1][0]}, 3));
  std::unique_ptr<GateSession> primary = cluster_.Session("app");
  std::unique_ptr<GateSession> replica = cluster_.Session("app@replica");

  cluster_.memory().SetUnavailable(true);
  // A tablet started during the outage registers once the topology is back.
  const uint32_t late = TabletUid(1, 2);
  absl::StatusOr<tablet::TabletServer*> added = absl::UnknownError("not started");
  std::thread starter([&] { added = cluster_.StartTablet(late, "80-", topodata::REPLICA); });

  const absl::Time end = absl::Now() + absl::Seconds(2);
  int64_t next_id = 100000, written = 0;
  std::vector<std::string> failures;
  while (absl::Now() < end && failures.size() < 5) {
    for (int s = 0; s < 2; ++s) {
      const int64_t id = IdsOnShard(s, 1, next_id)[0];
      next_id = id + 1;
      const std::vector<std::string> steps = {
          absl::StrCat("INSERT INTO kv (id, v) VALUES (", id, ", 1)"),
          absl::StrCat("UPDATE kv SET v = v + 1 WHERE id = ", id)};
      for (const std::string& sql : steps) {
        absl::StatusOr<tablet::QueryResult> r = RunSql(*primary, sql);
        if (!r.ok()) failures.push_back(absl::StrCat(sql, ": ", r.status().ToString()));
      }
      absl::StatusOr<int64_t> v =
          RunSqlInt(*primary, absl::StrCat("SELECT v FROM kv WHERE id = ", id));
      if (v.ok() && *v == 2) ++written;
      v = RunSqlInt(*replica, absl::StrCat("SELECT v FROM kv WHERE id = ", ids[s][0]));
      if (!v.ok() || *v != 3)
        failures.push_back(absl::StrCat("replica read: ", v.status().ToString()));
    }
  }
  // The outage is real for the gateway too: SHOW KEYSPACES reads the topology.
  const bool show_failed_in_outage = !RunSql(*primary, "SHOW KEYSPACES").ok();
  const int serving_in_outage = cluster_.ServingTablets();
  const bool late_seen_in_outage = cluster_.Serving(late);
  cluster_.memory().SetUnavailable(false);
  starter.join();

  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_GT(written, 10);
  EXPECT_TRUE(show_failed_in_outage);
  EXPECT_EQ(serving_in_outage, 4);
  EXPECT_FALSE(late_seen_in_outage);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_TRUE(WaitUntil([&] { return cluster_.Serving(late); }))
      << "the tablet registered after the outage is not served";
  EXPECT_EQ(cluster_.ServingTablets(), 5);
  ExpectValue(RunSqlInt(*primary, "SELECT count(*) FROM kv WHERE v = 2"), written, "rows written");
}

TEST_F(GatewayTest, PlannedReparentsFailNoStatementAndCountEveryUpdateOnce) {
  // Counters on both shards, most on -80 (the shard that changes primary).
  std::vector<int64_t> ids = IdsOnShard(0, 6);
  const std::vector<int64_t> high = IdsOnShard(1, 2);
  ids.insert(ids.end(), high.begin(), high.end());
  ASSERT_NO_FATAL_FAILURE(CreateKv(ids, 0));

  constexpr int kWriters = 4;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done[2] = {0, 0};  // successful updates per shard
  absl::Mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::unique_ptr<GateSession> session = cluster_.Session("app");
      for (size_t i = w; !stop.load(); ++i) {
        const int64_t id = ids[i % ids.size()];
        const std::string sql = absl::StrCat("UPDATE kv SET v = v + 1 WHERE id = ", id);
        absl::StatusOr<tablet::QueryResult> r = RunSql(*session, sql);
        if (r.ok() && r->rows_affected() == 1) {
          ++done[ShardOfId(id)];
          continue;
        }
        absl::MutexLock l(&mu);
        failures.push_back(
            absl::StrCat(sql, ": ", r.ok() ? r->ShortDebugString() : r.status().ToString()));
        if (failures.size() > 20) return;
      }
    });
  }
  auto total = [&] { return done[0].load() + done[1].load(); };
  const bool warmed_up = WaitUntil([&] { return total() >= 30; });

  // The primary of -80 moves to the replica and back, a few times, each
  // while updates are running and with updates in between.
  constexpr int kMoves = 4;
  std::vector<std::string> errors;
  std::vector<absl::Duration> took;
  int64_t forwarded = 0;  // updates the old primary's tunnel sent on
  uint32_t primary = TabletUid(0, 0);
  bool resumed = true;
  for (int move = 0; move < kMoves && warmed_up; ++move) {
    const uint32_t next = move % 2 == 0 ? TabletUid(0, 1) : TabletUid(0, 0);
    ctl::ReparentOptions options;
    options.new_primary = topo::TabletAlias{"zone1", next};
    const absl::Time start = absl::Now();
    absl::StatusOr<ctl::ReparentResult> result =
        ctl::PlannedReparentShard(cluster_.ts(), "app", "-80", options);
    took.push_back(absl::Now() - start);
    if (!result.ok() || !result->changed) {
      errors.push_back(result.ok() ? result->message : result.status().ToString());
      break;
    }
    primary = next;
    forwarded += result->forwarded;
    const int64_t at = done[0].load();
    resumed = resumed && WaitUntil([&] { return done[0].load() >= at + 20; });
  }
  stop = true;
  for (std::thread& t : writers) t.join();

  ASSERT_TRUE(warmed_up);
  EXPECT_THAT(errors, ::testing::IsEmpty());
  EXPECT_TRUE(resumed) << "updates of -80 stopped after a primary change";
  EXPECT_THAT(failures, ::testing::IsEmpty());
  std::unique_ptr<GateSession> session = cluster_.Session("app");
  ExpectValue(RunSqlInt(*session, "SELECT sum(v) FROM kv"), total(), "sum of the counters");
  // Each shard's own primary holds exactly its shard's updates.
  ExpectValue(cluster_.TabletInt(primary, "SELECT sum(v) FROM kv"), done[0].load(),
              "-80 on its primary");
  ExpectValue(cluster_.TabletInt(TabletUid(1, 0), "SELECT sum(v) FROM kv"), done[1].load(),
              "80- on its primary");

  std::cout << "[ measured ] " << took.size() << " PlannedReparentShard calls took";
  for (absl::Duration d : took) std::cout << " " << d;
  std::cout << "; " << done[0].load() << " updates on -80, " << done[1].load() << " on 80-, "
            << forwarded << " forwarded by an old primary\n";
  for (absl::string_view line :
       absl::StrSplit(cluster_.gateway().registry().RenderPrometheus(), '\n')) {
    if (absl::StartsWith(line, "shale_gate_buffer_requests_total") ||
        absl::StartsWith(line, "shale_gate_buffer_wait_seconds_count") ||
        absl::StartsWith(line, "shale_gate_retries_total")) {
      std::cout << "[ metrics  ] " << line << "\n";
    }
  }
}

// The keyspace id at the start of the key space's byte b (0x80: 80-).
uint64_t IdAt(uint64_t b) { return b << 56; }

TEST_F(GatewayTest, GateExecuteRunsOnExactlyTheNamedShards) {
  std::vector<int64_t> all;
  int64_t rows[2] = {0, 0};
  for (int64_t id = 1; id <= 20; ++id) {
    all.push_back(id);
    ++rows[ShardOfId(id)];
  }
  ASSERT_GT(rows[0], 0);
  ASSERT_GT(rows[1], 0);
  ASSERT_NO_FATAL_FAILURE(CreateKv(all, 0));

  struct Case {
    std::string name;
    std::vector<std::string> shards;
    std::vector<uint64_t> keyspace_ids;
    std::vector<std::pair<uint64_t, uint64_t>> key_ranges;  // end 0: to the end
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"shard -80", {"-80"}, {}, {}, {"-80"}},
      {"shard 80-", {"80-"}, {}, {}, {"80-"}},
      {"both shards", {"80-", "-80"}, {}, {}, {"-80", "80-"}},
      {"id of a row on -80", {}, {key::HashInt64(IdsOnShard(0, 1)[0]).value}, {}, {"-80"}},
      {"id 0x90..", {}, {IdAt(0x90)}, {}, {"80-"}},
      {"ids on both", {}, {IdAt(0x7f), IdAt(0x80)}, {}, {"-80", "80-"}},
      {"range -40", {}, {}, {{0, IdAt(0x40)}}, {"-80"}},
      {"range c0-", {}, {}, {{IdAt(0xc0), 0}}, {"80-"}},
      {"range 70-90", {}, {}, {{IdAt(0x70), IdAt(0x90)}}, {"-80", "80-"}},
      {"range 00-80 (end exclusive)", {}, {}, {{0, IdAt(0x80)}}, {"-80"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExecuteRequest request = AppRequest("SELECT id FROM kv");
    for (const std::string& s : c.shards) request.add_shards(s);
    for (uint64_t id : c.keyspace_ids) request.add_keyspace_ids(id);
    for (const auto& range : c.key_ranges) {
      topodata::KeyRange* kr = request.add_key_ranges();
      kr->set_start(range.first);
      kr->set_end(range.second);
    }
    ExecuteResponse response;
    grpc::Status status = GateExecute(request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_THAT(response.shards(), ::testing::ElementsAreArray(c.want));
    int64_t want_rows = 0;
    for (const std::string& s : c.want) want_rows += rows[s == "-80" ? 0 : 1];
    EXPECT_EQ(response.result().rows_size(), want_rows);
    for (const tablet::Row& row : response.result().rows()) {
      EXPECT_THAT(c.want, ::testing::Contains(kShards[ShardOfId(row.values(0).int64())]));
    }
  }

  // A write with an explicit target changes that shard only.
  ExecuteRequest update = AppRequest("UPDATE kv SET v = v + 1");
  update.add_shards("80-");
  ExecuteResponse updated;
  grpc::Status status = GateExecute(update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(updated.shards(), ::testing::ElementsAre("80-"));
  EXPECT_EQ(updated.result().rows_affected(), rows[1]);
  ExpectValue(cluster_.TabletInt(TabletUid(1, 0), "SELECT sum(v) FROM kv"), rows[1], "80-");
  ExpectValue(cluster_.TabletInt(TabletUid(0, 0), "SELECT sum(v) FROM kv"), 0, "-80");

  // A replica target reads a replica of the named shard.
  ExecuteRequest on_replica = AppRequest("SELECT id FROM kv");
  on_replica.set_tablet_type(topodata::REPLICA);
  on_replica.add_shards("-80");
  const int64_t replica_queries = cluster_.tablet(TabletUid(0, 1)).stats().total();
  ExecuteResponse replica_rows;
  status = GateExecute(on_replica, &replica_rows);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(replica_rows.result().rows_size(), rows[0]);
  EXPECT_GT(cluster_.tablet(TabletUid(0, 1)).stats().total(), replica_queries);

  // A shard the keyspace does not have is refused.
  ExecuteRequest unknown = AppRequest("SELECT id FROM kv");
  unknown.add_shards("40-");
  ExecuteResponse none;
  status = GateExecute(unknown, &none);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("40-"));
}

// A key range whose start is past its end overlaps no shard: the request
// names no shard and is refused rather than run nowhere.
TEST_F(GatewayTest, GateExecuteRefusesAKeyRangeThatNamesNoShard) {
  ASSERT_NO_FATAL_FAILURE(CreateKv({1, 2, 3}, 0));
  ExecuteRequest request = AppRequest("UPDATE kv SET v = v + 1");
  topodata::KeyRange* range = request.add_key_ranges();
  range->set_start(IdAt(0x90));
  range->set_end(IdAt(0x10));
  ExecuteResponse response;
  grpc::Status status = GateExecute(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "ran on " << response.shards_size() << " shards: " << response.command_tag();
}

}  // namespace
}  // namespace shale::gate
