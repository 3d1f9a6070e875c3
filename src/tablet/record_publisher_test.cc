// Tests of RecordPublisher and StateManager against the memory topology,
// including an outage during which changes apply at once and the record
// catches up afterwards.

#include "tablet/record_publisher.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tablet/state_manager.h"
#include "tablet/test_topo.h"

namespace shale::tablet {
namespace {

using ::testing::HasSubstr;

const topo::TabletAlias kAlias{"zone1", 101};

topodata::Tablet MakeRecord(topodata::TabletType type) {
  topodata::Tablet t;
  *t.mutable_alias() = kAlias.ToProto();
  t.set_keyspace("app");
  t.set_shard("0");
  t.set_db_name("app");
  t.set_hostname("localhost");
  (*t.mutable_port_map())["grpc"] = 1234;
  t.set_type(type);
  return t;
}

RecordPublisherOptions FastOptions() {
  RecordPublisherOptions o;
  o.initial_backoff = absl::Milliseconds(1);
  o.max_backoff = absl::Milliseconds(20);
  return o;
}

TEST(RecordPublisherTest, WritesTheNewestRecord) {
  TestTopo topo;
  RecordPublisher publisher(&topo.ts, FastOptions());
  publisher.Start();
  publisher.Publish(MakeRecord(topodata::REPLICA));
  publisher.Publish(MakeRecord(topodata::RDONLY));
  ASSERT_TRUE(publisher.WaitForSync(absl::Seconds(10)));
  auto got = topo.ts.GetTablet(kAlias);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.type(), topodata::RDONLY);
  EXPECT_EQ(got->record.port_map().at("grpc"), 1234);
  PublishStatus st = publisher.Status();
  EXPECT_TRUE(st.in_sync);
  EXPECT_EQ(st.published, 2);
  EXPECT_EQ(st.last_error, "");
}

TEST(RecordPublisherTest, RetriesThroughAnOutage) {
  TestTopo topo;
  RecordPublisher publisher(&topo.ts, FastOptions());
  publisher.Start();
  topo.memory.SetUnavailable(true);
  publisher.Publish(MakeRecord(topodata::REPLICA));
  // Wait for at least one failed attempt.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (publisher.Status().failed_attempts == 0 && absl::Now() < deadline) {
    publisher.WaitForSync(absl::Milliseconds(5));
  }
  PublishStatus st = publisher.Status();
  EXPECT_FALSE(st.in_sync);
  EXPECT_GT(st.failed_attempts, 0);
  EXPECT_THAT(st.last_error, HasSubstr("UNAVAILABLE"));
  topo.memory.SetUnavailable(false);
  ASSERT_TRUE(publisher.WaitForSync(absl::Seconds(10)));
  EXPECT_TRUE(topo.ts.GetTablet(kAlias).ok());
  EXPECT_EQ(publisher.Status().last_error, "");
}

TEST(RecordPublisherTest, StopGivesUpAfterGrace) {
  TestTopo topo;
  RecordPublisher publisher(&topo.ts, FastOptions());
  publisher.Start();
  topo.memory.SetUnavailable(true);
  publisher.Publish(MakeRecord(topodata::REPLICA));
  const absl::Time start = absl::Now();
  publisher.Stop(absl::Milliseconds(50));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE(publisher.Status().in_sync);
}

TEST(StateManagerTest, ChangeTypeAppliesAtOnceDuringOutageAndRecordCatchesUp) {
  TestTopo topo;
  RecordPublisher publisher(&topo.ts, FastOptions());
  publisher.Start();
  StateManager state(MakeRecord(topodata::REPLICA), nullptr, &publisher);
  state.Start();
  ASSERT_TRUE(publisher.WaitForSync(absl::Seconds(10)));

  topo.memory.SetUnavailable(true);
  const int64_t gen = state.Snapshot().generation;
  ASSERT_TRUE(state.ChangeType(topodata::RDONLY).ok());
  // Applied in memory at once, whatever the topology does.
  EXPECT_EQ(state.type(), topodata::RDONLY);
  EXPECT_NE(state.WaitForChange(gen, absl::ZeroDuration()), gen);
  EXPECT_FALSE(publisher.Status().in_sync);

  topo.memory.SetUnavailable(false);
  ASSERT_TRUE(publisher.WaitForSync(absl::Seconds(10)));
  auto got = topo.ts.GetTablet(kAlias);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.type(), topodata::RDONLY);
}

TEST(StateManagerTest, PrimaryChangesAreReparents) {
  StateManager replica(MakeRecord(topodata::REPLICA), nullptr, nullptr);
  replica.Start();
  absl::Status s = replica.ChangeType(topodata::PRIMARY);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("reparent"));
  EXPECT_EQ(replica.ChangeType(topodata::UNKNOWN).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(replica.ChangeType(topodata::REPLICA).ok());  // no-op

  StateManager primary(MakeRecord(topodata::PRIMARY), nullptr, nullptr);
  primary.Start();
  EXPECT_EQ(primary.ChangeType(topodata::REPLICA).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StateManagerTest, ReadOnlyModes) {
  StateManager replica(MakeRecord(topodata::REPLICA), nullptr, nullptr);
  replica.Start();
  EXPECT_TRUE(replica.Snapshot().read_only);
  EXPECT_EQ(replica.SetReadWrite().code(), absl::StatusCode::kFailedPrecondition);

  StateManager primary(MakeRecord(topodata::PRIMARY), nullptr, nullptr);
  primary.Start();
  EXPECT_FALSE(primary.Snapshot().read_only);
  ASSERT_TRUE(primary.SetReadOnly().ok());
  EXPECT_TRUE(primary.Snapshot().read_only);
  ASSERT_TRUE(primary.SetReadWrite().ok());
  EXPECT_FALSE(primary.Snapshot().read_only);
}

TEST(StateManagerTest, ShardRecordWithNewerPrimaryDemotes) {
  topodata::Tablet rec = MakeRecord(topodata::PRIMARY);
  rec.set_primary_term(3);
  StateManager state(rec, nullptr, nullptr);
  state.Start();

  topodata::Shard shard;
  *shard.mutable_primary_alias() = kAlias.ToProto();
  shard.set_primary_term(3);
  EXPECT_FALSE(state.ApplyShardRecord(shard));  // names us, same term

  *shard.mutable_primary_alias() = topo::TabletAlias{"zone1", 202}.ToProto();
  shard.set_primary_term(4);
  EXPECT_TRUE(state.ApplyShardRecord(shard));
  StateSnapshot snap = state.Snapshot();
  EXPECT_EQ(snap.record.type(), topodata::REPLICA);
  EXPECT_TRUE(snap.read_only);
}

TEST(StateManagerTest, WaitForChangeTimesOutWithoutChange) {
  StateManager state(MakeRecord(topodata::REPLICA), nullptr, nullptr);
  state.Start();
  const int64_t gen = state.Snapshot().generation;
  EXPECT_EQ(state.WaitForChange(gen, absl::Milliseconds(10)), gen);
  state.SetHealthError("disk full");
  EXPECT_EQ(state.WaitForChange(gen, absl::Seconds(1)), gen + 1);
  EXPECT_EQ(state.health_error(), "disk full");
}

}  // namespace
}  // namespace shale::tablet
