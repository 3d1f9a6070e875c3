#include "changes/merge_queue.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::changes {
namespace {

tablet::ChangeEvent Event(int64_t seq, int32_t row) {
  tablet::ChangeEvent e;
  e.set_op(tablet::INSERT);
  e.set_table("t");
  e.mutable_position()->set_seq(seq);
  e.mutable_position()->set_term(1);
  e.mutable_position()->set_row(row);
  return e;
}

KeyspacePosition Start() { return *KeyspacePosition::Parse("-80:10.1.0,80-:20.1.0"); }

TEST(MergeQueueTest, StampsEachEventWithTheKeyspacePositionAfterIt) {
  MergeQueue q(Start(), {});
  EXPECT_EQ(q.ConsumedPosition(), "-80:10.1.0,80-:20.1.0");
  ASSERT_TRUE(q.Push("-80", {Event(11, 1), Event(11, 0)}));
  ASSERT_TRUE(q.Push("80-", {Event(21, 0)}));
  auto got = q.Pop(10, absl::Seconds(1));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].shard, "-80");
  EXPECT_EQ((*got)[0].position, "-80:11.1.1,80-:20.1.0");
  EXPECT_EQ((*got)[1].position, "-80:11.1.0,80-:20.1.0");
  EXPECT_EQ((*got)[2].position, "-80:11.1.0,80-:21.1.0");
  EXPECT_EQ(q.ConsumedPosition(), "-80:11.1.0,80-:21.1.0");
  auto empty = q.Pop(10, absl::Milliseconds(10));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(MergeQueueTest, CloseDrainsThenReportsTheStatus) {
  MergeQueue q(Start(), {});
  ASSERT_TRUE(q.Push("-80", {Event(11, 0)}));
  q.Close(absl::NotFoundError("keyspace app is gone"));
  EXPECT_FALSE(q.Push("-80", {Event(12, 0)}));
  auto first = q.Pop(10, absl::Seconds(1));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 1u);
  EXPECT_EQ(q.Pop(10, absl::Seconds(1)).status().code(), absl::StatusCode::kNotFound);
}

TEST(MergeQueueTest, AFullQueueCutsTheSubscriberOffWithTheResumePosition) {
  MergeQueueOptions o;
  o.max_events = 2;
  o.stall_timeout = absl::Milliseconds(200);
  MergeQueue q(Start(), o);
  ASSERT_TRUE(q.Push("-80", {Event(11, 0)}));
  ASSERT_TRUE(q.Pop(1, absl::Seconds(1)).ok());  // the consumer took one event
  ASSERT_TRUE(q.Push("-80", {Event(12, 0), Event(13, 0)}));
  EXPECT_FALSE(q.Push("-80", {Event(14, 0)}));  // full for the whole stall timeout
  absl::StatusOr<std::vector<MergedEvent>> r = q.Pop(10, absl::Seconds(1));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(),
            "subscriber too slow: 2 events buffered; resume with --from -80:11.1.0,80-:20.1.0");
}

TEST(MergeQueueTest, APushWaitsForRoomWhileTheConsumerDrains) {
  MergeQueueOptions o;
  o.max_events = 1;
  o.stall_timeout = absl::Seconds(30);
  MergeQueue q(Start(), o);
  ASSERT_TRUE(q.Push("-80", {Event(11, 0)}));
  std::thread pusher([&] { EXPECT_TRUE(q.Push("-80", {Event(12, 0)})); });
  int64_t taken = 0;
  while (taken < 2) {
    auto r = q.Pop(1, absl::Seconds(10));
    ASSERT_TRUE(r.ok());
    taken += r->size();
  }
  pusher.join();
  EXPECT_EQ(q.ConsumedPosition(), "-80:12.1.0,80-:20.1.0");
}

TEST(MergeQueueTest, TheByteBoundCountsToo) {
  MergeQueueOptions o;
  o.max_bytes = 1;
  o.stall_timeout = absl::Milliseconds(50);
  MergeQueue q(Start(), o);
  ASSERT_TRUE(q.Push("-80", {Event(11, 0)}));
  EXPECT_FALSE(q.Push("-80", {Event(12, 0)}));
}

}  // namespace
}  // namespace shale::changes
