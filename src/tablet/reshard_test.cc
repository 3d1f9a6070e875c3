// Filtered replication for resharding (issue 10) between in-process tablets
// over loopback gRPC: a source shard -80 with rows and a target shard -40
// whose Shard record lists it as a SourceShard. The target's primary copies
// the rows in its range and then follows the source's changes; the tests
// compare the target with the source's rows in -40.

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/wait_for.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "key/key_range.h"
#include "key/vindex.h"
#include "tablet/reshard_tablets_test.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(30);

class ReshardTest : public ReshardTabletsTest {
 protected:
  void SetUp() override { CreateReshardKeyspace({"-80", "-40"}); }

  void CreateSourceTables(TabletServer& source) {
    Must(source, "CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER, name TEXT)");
    Must(source, "CREATE INDEX items_v ON items (v)");
    Must(source,
         "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, note TEXT)");
    Must(source, "CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT)");
    Must(source, "INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany')");
    for (int i = 1; i <= 300; i += 50) {
      std::string items = "INSERT INTO items VALUES ";
      std::string orders = "INSERT INTO orders VALUES ";
      for (int j = i; j < i + 50; ++j) {
        absl::StrAppend(&items, j > i ? "," : "", "(", j, ",", j * 10, ",'item", j, "')");
        absl::StrAppend(&orders, j > i ? "," : "", "(", j, ",", j % 37, ",'n", j, "')");
      }
      Must(source, items);
      Must(source, orders);
    }
  }

  // The rows of table whose sharding column (index col, -1: every row) maps
  // into range, as one string.
  static std::string Rows(TabletServer& t, const std::string& table, int col,
                          const std::string& range) {
    auto rs = t.engine().ExecuteInternal("SELECT * FROM " + table + " ORDER BY 1");
    EXPECT_TRUE(rs.ok()) << rs.status();
    if (!rs.ok()) return "";
    const key::KeyRange r = *key::KeyRange::Parse(range);
    std::string out;
    for (const auto& row : rs->rows) {
      if (col >= 0 && !r.Contains(key::HashInt64(row[col].int64()))) continue;
      for (const auto& v : row) out += v.DebugString() + ",";
      out += ";";
    }
    return out;
  }

  // What the target should hold: the source's rows in -40.
  static std::string Expected(TabletServer& source) {
    return Rows(source, "items", 0, "-40") + "|" + Rows(source, "orders", 1, "-40") + "|" +
           Rows(source, "countries", -1, "-");
  }
  static std::string Actual(TabletServer& target) {
    return Rows(target, "items", -1, "-") + "|" + Rows(target, "orders", -1, "-") + "|" +
           Rows(target, "countries", -1, "-");
  }

  // Creates the source's tables and rows, makes the target follow it, and
  // waits until its stream has copied and runs.
  void Follow(TabletServer& source, TabletServer& target) {
    CreateSourceTables(source);
    SetSources(true);
    ASSERT_TRUE(WaitFor(kWait, [&] { return Running(target); }));
  }

  void SetSources(bool on) {
    auto r = topo_.ts.UpdateShardFields("app", "-40", [&](topodata::Shard& s) {
      s.clear_source_shards();
      if (on) {
        auto* src = s.add_source_shards();
        src->set_uid(1);
        src->set_keyspace("app");
        src->set_shard("-80");
        *src->mutable_key_range() = key::KeyRange::Parse("-80")->ToProto();
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(r.ok()) << r.status();
  }

  static std::optional<StreamState> Stream(TabletServer& t, uint32_t uid) {
    for (const StreamState& s : t.streams().States()) {
      if (s.uid() == uid) return s;
    }
    return std::nullopt;
  }

  static bool Running(TabletServer& t) {
    auto s = Stream(t, 1);
    return s.has_value() && s->phase() == RUNNING;
  }

  // WaitForStream on target up to the source's newest entry.
  static absl::StatusOr<WaitForStreamResponse> CatchUp(TabletServer& target, TabletServer& source) {
    const LogPosition p = source.replication().position().Get();
    WaitForStreamRequest req;
    req.set_uid(1);
    req.mutable_position()->set_seq(p.seq());
    req.mutable_position()->set_term(p.term());
    req.set_timeout_ms(20000);
    auto c = Client(target);
    return c->Call(c->reshard(), &Reshard::Stub::WaitForStream, req, absl::Seconds(30));
  }
};

// A writer on the source: inserts, updates (also of orders, whose event
// lacks the sharding column) and deletes, until stopped. Inserts keys from
// `first` up.
class SourceWriter : public DbaWriter {
 public:
  explicit SourceWriter(TabletServer& source, int first = 1000)
      : DbaWriter(first, [&source](int64_t i) {
          const int64_t old = i % 300 + 1;  // a row of the copy
          return Statements{
              {&source, absl::StrCat("INSERT INTO items VALUES (", i, ",", i, ",'w')")},
              {&source, absl::StrCat("UPDATE items SET v = v + 1, name = 'u' WHERE id IN (", old,
                                     ",", i - 3, ")")},
              {&source, absl::StrCat("DELETE FROM items WHERE id IN (", i - 7, ",",
                                     (i * 7) % 300 + 1, ")")},
              {&source, absl::StrCat("INSERT INTO orders VALUES (", i, ",", i % 41, ",'w')")},
              {&source, absl::StrCat("UPDATE orders SET note = 'changed", i, "' WHERE id IN (",
                                     old, ",", i - 2, ")")},
              {&source, absl::StrCat("DELETE FROM orders WHERE id = ", i - 5)},
              {&source, absl::StrCat("UPDATE countries SET name = 'c", i, "' WHERE code = 'fr'")},
          };
        }, /*fail_test_on_error=*/true) {}
};

TEST_F(ReshardTest, CopiesTheRangeThenStreamsExactlyOnceAndResumesAfterARestart) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  auto replica = Start(201, "-40", topodata::REPLICA);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  ASSERT_NE(replica, nullptr);
  CreateSourceTables(*source);

  SourceWriter writer(*source);
  ASSERT_TRUE(WaitFor(kWait, [&] { return writer.writes() > 5; }));
  SetSources(true);  // the target's watch starts the stream: no RPC
  ASSERT_TRUE(WaitFor(kWait, [&] { return Running(*target); }))
      << (Stream(*target, 1) ? Stream(*target, 1)->DebugString() : "no stream");
  const int at_copy_end = writer.writes();
  ASSERT_TRUE(WaitFor(kWait, [&] { return writer.writes() > at_copy_end + 20; }));
  writer.Stop();
  EXPECT_EQ(writer.errors(), 0);

  auto caught = CatchUp(*target, *source);
  ASSERT_TRUE(caught.ok()) << caught.status();
  EXPECT_EQ(caught->stream().phase(), RUNNING);
  EXPECT_GT(caught->stream().rows_copied(), 0);
  EXPECT_EQ(caught->stream().tables_copied(), 3);
  EXPECT_EQ(caught->stream().tables_total(), 3);
  EXPECT_GT(caught->stream().events_applied(), 0);
  const std::string expected = Expected(*source);
  EXPECT_EQ(Actual(*target), expected);
  // Not everything: -40 is about half of -80.
  EXPECT_NE(Rows(*source, "items", -1, "-"), Rows(*target, "items", -1, "-"));
  // The copy created the index too.
  auto idx = target->engine().ExecuteInternal(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'items_v'");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->rows[0][0].int64(), 1);

  // The replica has the rows and the stream's state.
  WaitCaughtUp(*replica, *target);
  EXPECT_EQ(Actual(*replica), expected);
  auto state = [](TabletServer& t) {
    auto rs = t.engine().ExecuteInternal(
        "SELECT uid, phase, pos_seq, pos_term, pos_row, rows_copied FROM _shale_reshard");
    EXPECT_TRUE(rs.ok()) << rs.status();
    std::string out;
    for (const auto& row : rs->rows) {
      for (const auto& v : row) out += v.DebugString() + ",";
    }
    return out;
  };
  EXPECT_FALSE(state(*target).empty());
  EXPECT_EQ(state(*replica), state(*target));
  // A replica reports the replicated state.
  auto on_replica = Stream(*replica, 1);
  ASSERT_TRUE(on_replica.has_value());
  EXPECT_EQ(on_replica->phase(), RUNNING);

  // StreamStatus over gRPC.
  {
    auto c = Client(*target);
    auto st = c->Call(c->reshard(), &Reshard::Stub::StreamStatus, StreamStatusRequest());
    ASSERT_TRUE(st.ok()) << st.status();
    ASSERT_EQ(st->streams_size(), 1);
    EXPECT_EQ(st->streams(0).source_shard(), "-80");
    EXPECT_EQ(st->alias().uid(), 200u);
    EXPECT_GE(st->streams(0).lag_ms(), 0);
  }

  // The stream's metrics.
  const std::string metrics = target->metrics().RenderPrometheus();
  EXPECT_THAT(metrics, HasSubstr("shale_reshard_rows_copied_total{uid=\"1\"}"));
  EXPECT_THAT(metrics, HasSubstr("shale_reshard_events_applied_total{uid=\"1\"}"));
  EXPECT_THAT(metrics, HasSubstr("shale_reshard_lag_seconds{uid=\"1\"}"));

  // Stop the target's primary; the source writes on; the restarted primary
  // resumes from its recorded position: no gap, no duplicate.
  const int64_t applied_before = Stream(*target, 1)->events_applied();
  target->Stop();
  target.reset();
  SourceWriter more(*source, 100000);
  ASSERT_TRUE(WaitFor(kWait, [&] { return more.writes() > 20; }));
  more.Stop();
  EXPECT_EQ(more.errors(), 0);
  target = Start(200, "-40", topodata::PRIMARY);
  ASSERT_NE(target, nullptr);
  caught = CatchUp(*target, *source);
  ASSERT_TRUE(caught.ok()) << caught.status();
  EXPECT_EQ(Actual(*target), Expected(*source));
  EXPECT_GT(caught->stream().events_applied(), applied_before);
  EXPECT_EQ(caught->stream().tables_copied(), 3);  // no second copy
}

TEST_F(ReshardTest, AnInterruptedCopyStartsAgainWithoutStaleRows) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  CreateSourceTables(*source);
  // What an interrupted copy leaves: the table, some rows (one the source
  // has since deleted), and a state row that says the copy began.
  Must(*target, "CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER, name TEXT)");
  int64_t stale = 0;
  for (int64_t v = 5000;; ++v) {
    if (key::KeyRange::Parse("-40")->Contains(key::HashInt64(v))) {
      stale = v;
      break;
    }
  }
  Must(*target, absl::StrCat("INSERT INTO items VALUES (", stale, ", 1, 'stale')"));
  ASSERT_TRUE(target->engine()
                  .ExecuteInternal("INSERT INTO _shale_reshard VALUES (1, 'app', '-80', 0, 0, 0, "
                                   "1, 0, 0, 0, 7, 0, 3, 'items', 0, '', 0)")
                  .ok());
  SetSources(true);
  ASSERT_TRUE(WaitFor(kWait, [&] { return Running(*target); }));
  auto caught = CatchUp(*target, *source);
  ASSERT_TRUE(caught.ok()) << caught.status();
  EXPECT_EQ(Actual(*target), Expected(*source));
  EXPECT_EQ(Rows(*target, "items", -1, "-").find("stale"), std::string::npos);
}

TEST_F(ReshardTest, SyncStreamsStopsAndForgetsAStreamTheRecordDropped) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  auto replica = Start(201, "-40", topodata::REPLICA);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  ASSERT_NO_FATAL_FAILURE(Follow(*source, *target));
  ASSERT_TRUE(CatchUp(*target, *source).ok());

  // SyncStreams answers from the record it reads itself.
  auto c = Client(*target);
  auto sync = c->Call(c->reshard(), &Reshard::Stub::SyncStreams, SyncStreamsRequest());
  ASSERT_TRUE(sync.ok()) << sync.status();
  ASSERT_EQ(sync->streams_size(), 1);
  SetSources(false);
  sync = c->Call(c->reshard(), &Reshard::Stub::SyncStreams, SyncStreamsRequest());
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_EQ(sync->streams_size(), 0);  // stopped and its state deleted
  EXPECT_TRUE(target->streams().States().empty());

  // Nothing arrives after the answer: a source write, then two source
  // heartbeats later the target still lacks it.
  const std::string before = Actual(*target);
  Must(*source, "INSERT INTO countries VALUES ('it', 'Italy')");
  const int64_t seq = source->replication().position().Get().seq();
  ASSERT_TRUE(WaitFor(kWait, [&] { return source->replication().position().Get().seq() > seq + 2; }));
  EXPECT_EQ(Actual(*target), before);

  // WaitForStream and SyncStreams refuse clearly.
  WaitForStreamRequest w;
  w.set_uid(1);
  auto waited = c->Call(c->reshard(), &Reshard::Stub::WaitForStream, w);
  EXPECT_TRUE(absl::IsNotFound(waited.status())) << waited.status();
  EXPECT_THAT(std::string(waited.status().message()), HasSubstr("no stream 1"));
  auto rc = Client(*replica);
  auto on_replica = rc->Call(rc->reshard(), &Reshard::Stub::SyncStreams, SyncStreamsRequest());
  EXPECT_TRUE(absl::IsFailedPrecondition(on_replica.status())) << on_replica.status();
  EXPECT_THAT(std::string(on_replica.status().message()), HasSubstr("not the primary"));
}

// A shard that serves PRIMARY follows no shard of its own keyspace: the
// streams a primary switch starts into the side that still writes stay
// dormant (listed, state kept, nothing applied) until PRIMARY moves away.
TEST_F(ReshardTest, AShardServingPrimaryKeepsItsStreamsDormant) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  CreateSourceTables(*source);
  auto serve_primary = [&](bool on) {
    auto r = topo_.ts.UpdateShardFields("app", "-40", [&](topodata::Shard& s) {
      s.clear_served_types();
      if (on) s.add_served_types()->set_tablet_type(topodata::PRIMARY);
      return absl::OkStatus();
    });
    ASSERT_TRUE(r.ok()) << r.status();
  };
  ASSERT_NO_FATAL_FAILURE(serve_primary(true));
  SetSources(true);
  auto c = Client(*target);
  auto sync = c->Call(c->reshard(), &Reshard::Stub::SyncStreams, SyncStreamsRequest());
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_EQ(sync->streams_size(), 0);
  EXPECT_FALSE(Running(*target));

  ASSERT_NO_FATAL_FAILURE(serve_primary(false));
  sync = c->Call(c->reshard(), &Reshard::Stub::SyncStreams, SyncStreamsRequest());
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_EQ(sync->streams_size(), 1);
  ASSERT_TRUE(WaitFor(kWait, [&] { return Running(*target); }));
  ASSERT_TRUE(CatchUp(*target, *source).ok());
  EXPECT_EQ(Actual(*target), Expected(*source));
}

TEST_F(ReshardTest, WaitForStreamTimesOutNamingBothPositions) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  ASSERT_NO_FATAL_FAILURE(Follow(*source, *target));
  auto c = Client(*target);
  WaitForStreamRequest w;
  w.set_uid(1);
  w.mutable_position()->set_seq(1000000);
  w.set_timeout_ms(300);
  auto r = c->Call(c->reshard(), &Reshard::Stub::WaitForStream, w);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not yet 1000000.0.0"));
  w.set_timeout_ms(-1);
  r = c->Call(c->reshard(), &Reshard::Stub::WaitForStream, w);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

TEST_F(ReshardTest, PauseAndResumeUntilHoldTheStreamAtAnEntry) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  ASSERT_NO_FATAL_FAILURE(Follow(*source, *target));
  ASSERT_TRUE(CatchUp(*target, *source).ok());

  auto paused = target->streams().Pause(1);
  ASSERT_TRUE(paused.ok()) << paused.status();
  Must(*source, "INSERT INTO countries VALUES ('es', 'Spain')");
  const LogPosition mark = source->replication().position().Get();
  Must(*source, "INSERT INTO countries VALUES ('pt', 'Portugal')");
  // Held: the stream applies nothing while paused.
  EXPECT_EQ(Rows(*target, "countries", -1, "-").find("Spain"), std::string::npos);
  ChangePosition until;
  until.set_seq(mark.seq());
  until.set_term(mark.term());
  auto held = target->streams().ResumeUntil(1, until, absl::Now() + kWait);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->position().seq(), mark.seq());
  EXPECT_EQ(held->position().row(), 0);
  EXPECT_EQ(held->phase(), PAUSED);
  EXPECT_NE(Rows(*target, "countries", -1, "-").find("Spain"), std::string::npos);
  EXPECT_EQ(Rows(*target, "countries", -1, "-").find("Portugal"), std::string::npos);
  // Already past an earlier entry: refused.
  until.set_seq(mark.seq() - 1);
  auto past = target->streams().ResumeUntil(1, until, absl::Now() + kWait);
  EXPECT_TRUE(absl::IsFailedPrecondition(past.status())) << past.status();
  target->streams().Resume(1);
  ASSERT_TRUE(CatchUp(*target, *source).ok());
  EXPECT_EQ(Actual(*target), Expected(*source));
}

TEST_F(ReshardTest, CopyRowsRefusesBadRequestsClearly) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  CreateSourceTables(*source);
  auto c = Client(*source);
  auto copy = [&](const CopyRowsRequest& req) -> absl::Status {
    grpc::ClientContext ctx;
    auto reader = c->reshard().CopyRows(&ctx, req);
    CopyRowsResponse r;
    while (reader->Read(&r)) {
    }
    return FromGrpcStatus(reader->Finish());
  };
  CopyRowsRequest req;
  absl::Status s = copy(req);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "CopyRows needs at least one table");
  req.add_tables()->set_table("_shale_log");
  s = copy(req);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("never copied"));
  req.mutable_tables(0)->set_table("nosuch");
  s = copy(req);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(s.message(), "table nosuch does not exist on this tablet");
  req.mutable_tables(0)->set_table("items");
  req.mutable_tables(0)->set_column("nocol");
  s = copy(req);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "table items has no sharding column nocol");
  req.mutable_tables(0)->set_column("id");
  *req.add_tables() = req.tables(0);
  s = copy(req);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "table items is named twice");

  // A good one: the position first, then schema, columns and the rows in range.
  CopyRowsRequest good;
  auto* t = good.add_tables();
  t->set_table("items");
  t->set_column("id");
  t->set_column_type(topodata::UINT64);
  *good.mutable_key_range() = key::KeyRange::Parse("-40")->ToProto();
  good.set_batch_rows(7);
  grpc::ClientContext ctx;
  auto reader = c->reshard().CopyRows(&ctx, good);
  std::vector<CopyRowsResponse> got;
  CopyRowsResponse r;
  while (reader->Read(&r)) got.push_back(r);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_GE(got.size(), 3u);
  EXPECT_TRUE(got[0].has_position());
  EXPECT_EQ(got[0].position().seq(), source->replication().position().Get().seq());
  EXPECT_THAT(got[0].schema(0), HasSubstr("CREATE TABLE items"));
  EXPECT_THAT(got[0].schema(1), HasSubstr("CREATE INDEX items_v"));
  EXPECT_EQ(got[0].columns_size(), 3);
  int rows = 0;
  const key::KeyRange range = *key::KeyRange::Parse("-40");
  for (const auto& g : got) {
    EXPECT_LE(g.rows_size(), 7);
    for (const auto& row : g.rows()) {
      EXPECT_TRUE(range.Contains(key::HashInt64(row.values(0).int64())));
      ++rows;
    }
  }
  EXPECT_TRUE(got.back().table_done());
  EXPECT_EQ(got.back().rows_scanned(), 300);
  int want = 0;
  for (int i = 1; i <= 300; ++i) want += range.Contains(key::HashInt64(i)) ? 1 : 0;
  EXPECT_EQ(rows, want);
}

TEST_F(ReshardTest, CopyRowsReadsOneSnapshotWhileCommitsGoOn) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  CreateSourceTables(*source);
  auto c = Client(*source);
  CopyRowsRequest req;
  auto* t = req.add_tables();
  t->set_table("items");
  t->set_column("id");
  t->set_column_type(topodata::UINT64);
  req.set_batch_rows(1);
  grpc::ClientContext ctx;
  auto reader = c->reshard().CopyRows(&ctx, req);
  CopyRowsResponse r;
  ASSERT_TRUE(reader->Read(&r));
  ASSERT_TRUE(r.has_position());
  const int64_t snapshot_seq = r.position().seq();
  // The read transaction is open: commits go on, and the copy does not see them.
  Must(*source, "DELETE FROM items WHERE id > 150");
  Must(*source, "INSERT INTO items VALUES (5000, 1, 'new')");
  EXPECT_GT(source->replication().position().Get().seq(), snapshot_seq);
  std::set<int64_t> ids;
  while (reader->Read(&r)) {
    for (const auto& row : r.rows()) ids.insert(row.values(0).int64());
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_EQ(*ids.rbegin(), 300);
}

TEST_F(ReshardTest, APlannedMigrationOfTheTargetMovesTheStream) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  auto replica = Start(201, "-40", topodata::REPLICA);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  ASSERT_NE(replica, nullptr);
  ASSERT_NO_FATAL_FAILURE(Follow(*source, *target));
  SourceWriter writer(*source);
  ASSERT_TRUE(WaitFor(kWait, [&] { return writer.writes() > 10; }));
  const int64_t term = target->state().Snapshot().record.primary_term();
  auto moved = Migrate(*target, *replica, term + 1);
  ASSERT_TRUE(moved.ok()) << moved.status();
  const int at_move = writer.writes();
  ASSERT_TRUE(WaitFor(kWait, [&] { return writer.writes() > at_move + 10; }));
  writer.Stop();
  EXPECT_EQ(writer.errors(), 0);
  // The new primary resumes from the replicated state; the old one, now a
  // replica, runs nothing and follows it.
  auto caught = CatchUp(*replica, *source);
  ASSERT_TRUE(caught.ok()) << caught.status();
  EXPECT_EQ(Actual(*replica), Expected(*source));
  EXPECT_EQ(caught->stream().tables_copied(), 3);  // no second copy
  auto c = Client(*target);
  WaitForStreamRequest w;
  w.set_uid(1);
  auto on_old = c->Call(c->reshard(), &Reshard::Stub::WaitForStream, w);
  EXPECT_TRUE(absl::IsNotFound(on_old.status())) << on_old.status();
  WaitCaughtUp(*target, *replica);
  EXPECT_EQ(Actual(*target), Expected(*source));
}

TEST_F(ReshardTest, AStreamWithAStartPositionCopiesNothing) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto target = Start(200, "-40", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  CreateSourceTables(*source);
  Must(*target, "CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT)");
  // As a reverse stream: from the source's position now, no copy.
  const LogPosition start = source->replication().position().Get();
  auto r = topo_.ts.UpdateShardFields("app", "-40", [&](topodata::Shard& s) {
    auto* src = s.add_source_shards();
    src->set_uid(7);
    src->set_keyspace("app");
    src->set_shard("-80");
    src->add_tables("countries");
    src->set_start_seq(start.seq());
    src->set_start_term(start.term());
    src->set_reverse(true);
    return absl::OkStatus();
  });
  ASSERT_TRUE(r.ok()) << r.status();
  Must(*source, "INSERT INTO countries VALUES ('nl', 'Netherlands')");
  Must(*source, "INSERT INTO items VALUES (7777, 1, 'not carried')");
  const LogPosition end = source->replication().position().Get();
  WaitForStreamRequest w;
  w.set_uid(7);
  w.mutable_position()->set_seq(end.seq());
  w.set_timeout_ms(20000);
  auto c = Client(*target);
  absl::StatusOr<WaitForStreamResponse> caught;
  // The stream starts when the target sees the record: retry NotFound until then.
  ASSERT_TRUE(WaitFor(kWait, [&] {
    caught = c->Call(c->reshard(), &Reshard::Stub::WaitForStream, w, absl::Seconds(30));
    return !absl::IsNotFound(caught.status());
  }));
  ASSERT_TRUE(caught.ok()) << caught.status();
  EXPECT_EQ(caught->stream().rows_copied(), 0);
  EXPECT_EQ(caught->stream().tables_total(), 0);
  EXPECT_TRUE(caught->stream().reverse());
  EXPECT_EQ(caught->stream().events_applied(), 1);
  EXPECT_EQ(Rows(*target, "countries", -1, "-"), "'nl','Netherlands',;");
}

TEST_F(ReshardTest, TheStreamFollowsTheSourceAcrossAPlannedMigration) {
  auto source = Start(100, "-80", topodata::PRIMARY);
  auto source_replica = Start(101, "-80", topodata::REPLICA);
  auto target = Start(200, "-40", topodata::PRIMARY);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(source_replica, nullptr);
  ASSERT_NE(target, nullptr);
  ASSERT_NO_FATAL_FAILURE(Follow(*source, *target));
  {
    SourceWriter writer(*source);
    ASSERT_TRUE(WaitFor(kWait, [&] { return writer.writes() > 10; }));
  }
  const int64_t term = source->state().Snapshot().record.primary_term();
  auto moved = Migrate(*source, *source_replica, term + 1);
  ASSERT_TRUE(moved.ok()) << moved.status();
  {
    SourceWriter writer(*source_replica, 100000);
    ASSERT_TRUE(WaitFor(kWait, [&] { return writer.writes() > 10; }));
    writer.Stop();
    EXPECT_EQ(writer.errors(), 0);
  }
  auto caught = CatchUp(*target, *source_replica);
  ASSERT_TRUE(caught.ok()) << caught.status();
  EXPECT_EQ(Actual(*target), Expected(*source_replica));
  EXPECT_EQ(caught->stream().tables_copied(), 3);
}

}  // namespace
}  // namespace shale::tablet
