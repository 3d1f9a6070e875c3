// Tests of what only the memory backend has: fault injection and the read
// counter. The Conn behaviour itself is covered by topo/conformance.

#include "topo/memory/memory_server.h"

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace shale::topo {
namespace {

using Kind = WatchEvent::Kind;

// Collects watch events; Wait blocks until n have arrived or a deadline passes.
class Events {
 public:
  WatchCallback Callback() {
    return [this](const WatchEvent& e) {
      absl::MutexLock l(&mu_);
      events_.push_back(e);
    };
  }
  std::vector<WatchEvent> Wait(size_t n) {
    absl::MutexLock l(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return events_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<WatchEvent> events_ ABSL_GUARDED_BY(mu_);
};

TEST(MemoryServerTest, UnavailableFailsEveryOperationUntilCleared) {
  MemoryServer server;
  auto conn = server.NewConn();
  ASSERT_TRUE(conn->Create("/a", "1").ok());
  server.SetUnavailable(true);
  auto unavailable = [](const absl::Status& s) { return absl::IsUnavailable(s); };
  EXPECT_TRUE(unavailable(conn->Create("/b", "1").status()));
  EXPECT_TRUE(unavailable(conn->Get("/a").status()));
  EXPECT_TRUE(unavailable(conn->Update("/a", "2", std::nullopt).status()));
  EXPECT_TRUE(unavailable(conn->Delete("/a", std::nullopt)));
  EXPECT_TRUE(unavailable(conn->ListDir("/").status()));
  EXPECT_TRUE(unavailable(conn->Lock("/ks", "x", absl::Seconds(1)).status()));
  EXPECT_TRUE(unavailable(conn->Watch("/a", [](const WatchEvent&) {}).status()));
  EXPECT_TRUE(unavailable(conn->WatchDir("/", [](const WatchEvent&) {}).status()));
  // Bad input is still reported as such.
  EXPECT_TRUE(absl::IsInvalidArgument(conn->Get("bad").status()));
  server.SetUnavailable(false);
  auto got = conn->Get("/a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->value, "1");
}

TEST(MemoryServerTest, WatchesGetOneErrorThenCatchUp) {
  MemoryServer server;
  auto conn = server.NewConn();
  ASSERT_TRUE(conn->Create("/d/x", "x").ok());
  auto y = conn->Create("/d/y", "y");
  ASSERT_TRUE(y.ok());
  auto lock = conn->Lock("/d", "holder", absl::Seconds(1));
  ASSERT_TRUE(lock.ok()) << lock.status();

  Events node_events, dir_events;
  auto node_watch = conn->Watch("/d/y", node_events.Callback());
  ASSERT_TRUE(node_watch.ok());
  auto dir_watch = conn->WatchDir("/d", dir_events.Callback());
  ASSERT_TRUE(dir_watch.ok());
  ASSERT_EQ(dir_watch->current.size(), 3u);  // locks/lock, x, y

  server.SetUnavailable(true);
  server.SetUnavailable(true);  // no-op: still one error event
  // Released while down, as an expired lease would be.
  EXPECT_TRUE(absl::IsUnavailable((*lock)->Unlock()));
  server.SetUnavailable(false);

  auto got = node_events.Wait(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, Kind::kError);
  EXPECT_TRUE(absl::IsUnavailable(got[0].error));
  EXPECT_EQ(got[1].kind, Kind::kChanged);
  EXPECT_EQ(got[1].value, "y");
  EXPECT_EQ(got[1].version, *y);

  auto dir_got = dir_events.Wait(4);
  ASSERT_EQ(dir_got.size(), 4u);
  EXPECT_EQ(dir_got[0].kind, Kind::kError);
  EXPECT_EQ(dir_got[1].kind, Kind::kDeleted);
  EXPECT_EQ(dir_got[1].path, "/d/locks/lock");
  EXPECT_EQ(dir_got[2].kind, Kind::kChanged);
  EXPECT_EQ(dir_got[2].path, "/d/x");
  EXPECT_EQ(dir_got[3].kind, Kind::kChanged);
  EXPECT_EQ(dir_got[3].path, "/d/y");

  // The lock is free again and the watches stay armed.
  auto again = conn->Lock("/d", "next", absl::Milliseconds(10));
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(conn->Delete("/d/y", std::nullopt).ok());
  got = node_events.Wait(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].kind, Kind::kDeleted);
}

TEST(MemoryServerTest, CatchUpReportsANodeDeletedBeforeTheOutage) {
  MemoryServer server;
  auto conn = server.NewConn();
  ASSERT_TRUE(conn->Create("/a", "1").ok());
  Events events;
  auto watch = conn->Watch("/a", events.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(conn->Delete("/a", std::nullopt).ok());
  server.SetUnavailable(true);
  server.SetUnavailable(false);
  auto got = events.Wait(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, Kind::kDeleted);
  EXPECT_EQ(got[1].kind, Kind::kError);
  EXPECT_EQ(got[2].kind, Kind::kDeleted);
}

TEST(MemoryServerTest, LockWaiterGivesUpWhenServerGoesDown) {
  MemoryServer server;
  auto conn = server.NewConn();
  auto held = conn->Lock("/ks", "first", absl::Seconds(1));
  ASSERT_TRUE(held.ok());
  absl::Status waiter_status;
  std::thread waiter([&] {
    // Blocks until the server goes down (well before the 60s timeout).
    waiter_status = conn->Lock("/ks", "second", absl::Seconds(60)).status();
  });
  server.SetUnavailable(true);
  waiter.join();
  EXPECT_TRUE(absl::IsUnavailable(waiter_status)) << waiter_status;
  EXPECT_TRUE(absl::IsUnavailable((*held)->Check()));
  server.SetUnavailable(false);
  EXPECT_TRUE((*held)->Check().ok());
}

TEST(MemoryServerTest, LockHandleStates) {
  MemoryServer server;
  auto conn = server.NewConn();
  auto lock = conn->Lock("/", "root holder", absl::Seconds(1));
  ASSERT_TRUE(lock.ok());
  auto node = conn->Get("/locks/lock");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->value, "root holder");
  EXPECT_TRUE((*lock)->Check().ok());
  ASSERT_TRUE((*lock)->Unlock().ok());
  EXPECT_TRUE(absl::IsAborted((*lock)->Check()));
  EXPECT_TRUE(absl::IsFailedPrecondition((*lock)->Unlock()));

  // A lock whose node someone else deleted is lost.
  auto second = conn->Lock("/", "second", absl::Seconds(1));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(conn->Delete("/locks/lock", std::nullopt).ok());
  EXPECT_TRUE(absl::IsAborted((*second)->Check()));
  EXPECT_TRUE(absl::IsAborted((*second)->Unlock()));
}

TEST(MemoryServerTest, ReadCountCountsOnlyReads) {
  MemoryServer server;
  auto conn = server.NewConn();
  const int64_t start = server.read_count();
  ASSERT_TRUE(conn->Create("/a", "1").ok());
  ASSERT_TRUE(conn->Update("/a", "2", std::nullopt).ok());
  EXPECT_EQ(server.read_count(), start);
  ASSERT_TRUE(conn->Get("/a").ok());
  ASSERT_TRUE(conn->ListDir("/").ok());
  EXPECT_TRUE(absl::IsNotFound(conn->Get("/missing").status()));
  {
    auto w = conn->Watch("/a", [](const WatchEvent&) {});
    ASSERT_TRUE(w.ok());
    auto d = conn->WatchDir("/", [](const WatchEvent&) {});
    ASSERT_TRUE(d.ok());
  }
  EXPECT_EQ(server.read_count(), start + 5);
  ASSERT_TRUE(conn->Delete("/a", std::nullopt).ok());
  EXPECT_EQ(server.read_count(), start + 5);
}

TEST(MemoryServerTest, ConnsShareOneServerAndStandaloneConnsDoNot) {
  MemoryServer server;
  auto a = server.NewConn();
  auto b = server.NewConn();
  ASSERT_TRUE(a->Create("/x", "1").ok());
  EXPECT_TRUE(b->Get("/x").ok());

  auto s1 = MemoryServer::NewStandaloneConn();
  auto s2 = MemoryServer::NewStandaloneConn();
  ASSERT_TRUE(s1->Create("/x", "1").ok());
  EXPECT_TRUE(absl::IsNotFound(s2->Get("/x").status()));
}

}  // namespace
}  // namespace shale::topo
