// Conformance: Lock within one process.

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "topo/conformance/conformance_suite.h"
#include "topo/path.h"

namespace shale::topo::conformance {
namespace {

constexpr absl::Duration kShort = absl::Milliseconds(200);
constexpr absl::Duration kLong = absl::Seconds(20);

TEST_P(TopoConformanceTest, LockExcludesASecondHolder) {
  std::unique_ptr<Conn> other = NewConn();
  ASSERT_NE(other, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> first,
                       conn_->Lock("/keyspaces/app", "first holder", kLong));
  EXPECT_OK(first->Check());
  const absl::Time start = absl::Now();
  EXPECT_CODE(other->Lock("/keyspaces/app", "second holder", kShort), kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, kShort) << "Lock gave up before its timeout";
  // The same Conn does not get it twice either.
  EXPECT_CODE(conn_->Lock("/keyspaces/app", "again", kShort), kDeadlineExceeded);

  ASSERT_OK(first->Unlock());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> second,
                       other->Lock("/keyspaces/app", "second holder", kLong));
  EXPECT_OK(second->Check());
  EXPECT_OK(second->Unlock());
}

TEST_P(TopoConformanceTest, LockWaiterGetsTheLockWhenItIsReleased) {
  std::unique_ptr<Conn> other = NewConn();
  ASSERT_NE(other, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> first, conn_->Lock("/ks", "first", kLong));
  absl::Notification started;
  absl::StatusOr<std::unique_ptr<LockHandle>> second;
  std::thread waiter([&] {
    started.Notify();
    second = other->Lock("/ks", "second", kLong);
  });
  started.WaitForNotification();
  ASSERT_OK(first->Unlock());
  waiter.join();
  ASSERT_OK(second);
  ASSERT_OK_AND_ASSIGN(Versioned node, conn_->Get("/ks/locks/lock"));
  EXPECT_EQ(node.value, "second");
}

// The lock node sits below dir/locks/ and holds the contents, so operators
// can see who holds a lock and why.
TEST_P(TopoConformanceTest, LockNodeIsReadableBelowLocks) {
  ASSERT_OK(conn_->Create("/keyspaces/app/Keyspace", "ks record"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> lock,
                       conn_->Lock("/keyspaces/app", "reparent by test", kLong));
  ASSERT_OK_AND_ASSIGN(std::vector<DirEntry> entries, conn_->ListDir("/keyspaces/app/locks"));
  std::vector<std::string> holders;
  for (const DirEntry& entry : entries) {
    if (!entry.has_value) continue;
    ASSERT_OK_AND_ASSIGN(Versioned node,
                         conn_->Get(JoinPath("/keyspaces/app/locks", entry.name)));
    holders.push_back(node.value);
  }
  EXPECT_EQ(holders, std::vector<std::string>{"reparent by test"});
  // The lock does not disturb the directory's other nodes.
  ASSERT_OK_AND_ASSIGN(Versioned record, conn_->Get("/keyspaces/app/Keyspace"));
  EXPECT_EQ(record.value, "ks record");

  ASSERT_OK(lock->Unlock());
  auto after = conn_->ListDir("/keyspaces/app/locks");
  if (after.ok()) {
    for (const DirEntry& entry : *after) {
      EXPECT_FALSE(entry.has_value) << "lock node " << entry.name << " left after Unlock";
    }
  } else {
    EXPECT_CODE(after, kNotFound);
  }
}

TEST_P(TopoConformanceTest, DestroyingALockHandleReleasesTheLock) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> lock, conn_->Lock("/ks", "scoped", kLong));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> again, conn_->Lock("/ks", "next", kShort));
  EXPECT_OK(again->Check());
}

TEST_P(TopoConformanceTest, LocksOfDifferentDirsAreIndependent) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> shard_a,
                       conn_->Lock("/keyspaces/app/shards/-80", "a", kLong));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> shard_b,
                       conn_->Lock("/keyspaces/app/shards/80-", "b", kShort));
  // A keyspace lock and its shards' locks are distinct locks.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> keyspace,
                       conn_->Lock("/keyspaces/app", "ks", kShort));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> root, conn_->Lock("/", "root", kShort));
  EXPECT_OK(shard_a->Check());
  EXPECT_OK(shard_b->Check());
  EXPECT_OK(keyspace->Check());
  EXPECT_OK(root->Check());
}

TEST_P(TopoConformanceTest, LockWatchersSeeTheHolderComeAndGo) {
  EventRecorder recorder;
  ASSERT_OK_AND_ASSIGN(DirWatchStart watch, conn_->WatchDir("/ks/locks", recorder.Callback()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LockHandle> lock, conn_->Lock("/ks", "holder", kLong));
  std::vector<WatchEvent> events = recorder.WaitForCount(1);
  ASSERT_GE(events.size(), 1u);
  EXPECT_EQ(events[0].kind, WatchEvent::Kind::kChanged) << DescribeEvent(events[0]);
  EXPECT_EQ(events[0].value, "holder");
  ASSERT_OK(lock->Unlock());
  events = recorder.WaitUntil([](const std::vector<WatchEvent>& seen) {
    return !seen.empty() && seen.back().kind == WatchEvent::Kind::kDeleted;
  });
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, WatchEvent::Kind::kDeleted) << DescribeEvents(events);
}

}  // namespace
}  // namespace shale::topo::conformance
