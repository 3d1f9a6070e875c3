// Tests of the zk backend beyond the conformance suite: server outages,
// session expiry, several endpoints. One real ZooKeeper server per test
// process (ZkTestServer); tests that stop it start it again.

#include "topo/zk/zk_conn.h"

#include <unistd.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "topo/open/open.h"
#include "topo/zk/zk_session.h"
#include "topo/zk/zk_test_proxy.h"
#include "topo/zk/zk_test_server.h"

namespace shale::topo {
namespace {

using Kind = WatchEvent::Kind;

constexpr absl::Duration kWait = absl::Seconds(30);

// Collects a watch's events; thread-safe.
class Events {
 public:
  WatchCallback Callback() {
    return [state = state_](const WatchEvent& event) {
      absl::MutexLock l(&state->mu);
      state->events.push_back(event);
    };
  }
  // Waits until pred holds for the events (or kWait passes); returns them.
  std::vector<WatchEvent> WaitUntil(
      const std::function<bool(const std::vector<WatchEvent>&)>& pred) {
    State& s = *state_;
    absl::MutexLock l(&s.mu);
    auto done = [&s, &pred]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return pred(s.events); };
    s.mu.AwaitWithTimeout(absl::Condition(&done), kWait);
    return s.events;
  }
  // Waits for an event after the first `skip` ones that matches pred.
  std::optional<WatchEvent> WaitFor(size_t skip,
                                    const std::function<bool(const WatchEvent&)>& pred) {
    std::vector<WatchEvent> events = WaitUntil([&](const std::vector<WatchEvent>& seen) {
      for (size_t i = skip; i < seen.size(); ++i) {
        if (pred(seen[i])) return true;
      }
      return false;
    });
    for (size_t i = skip; i < events.size(); ++i) {
      if (pred(events[i])) return events[i];
    }
    return std::nullopt;
  }
  size_t size() {
    absl::MutexLock l(&state_->mu);
    return state_->events.size();
  }

 private:
  struct State {
    absl::Mutex mu;
    std::vector<WatchEvent> events ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

bool IsError(const WatchEvent& e) { return e.kind == Kind::kError; }
std::function<bool(const WatchEvent&)> IsValue(const std::string& value) {
  return [value](const WatchEvent& e) { return e.kind == Kind::kChanged && e.value == value; };
}

class ZkConnTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = ZkTestServer::Start();
    if (started.ok()) {
      server_ = std::move(*started).release();
    } else {
      start_error_ = new absl::Status(started.status());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "no ZooKeeper server: " << *start_error_;
    if (!server_->running()) {
      ASSERT_TRUE(server_->Restart().ok());
    }
    static int counter = 0;
    root_ = absl::StrCat("/zk_conn_test_", getpid(), "_", ++counter);
  }

  std::unique_ptr<ZkConn> Open(ConnOptions options = {}, ZkConnOptions zk_options = {}) {
    auto conn = ZkConn::Open(server_->Address(root_), options, zk_options);
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? std::move(*conn) : nullptr;
  }

  static ZkTestServer* server_;
  static absl::Status* start_error_;
  std::string root_;
};

ZkTestServer* ZkConnTest::server_ = nullptr;
absl::Status* ZkConnTest::start_error_ = nullptr;

TEST_F(ZkConnTest, OpenConnKnowsZkAddresses) {
  auto conn = OpenConn(server_->Address(root_));
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE((*conn)->Create("/global/a", "1").ok());
  EXPECT_EQ((*conn)->Get("/global/a")->value, "1");
  EXPECT_EQ(OpenConn("zk://127.0.0.1:2181").status().code(), absl::StatusCode::kInvalidArgument);
}

// The server goes away while watches are open and comes back: the watches
// report the outage once, then the current value, and carry on. Calls made
// during the outage fail with Unavailable within their deadline; a held lock
// survives an outage shorter than its session timeout.
TEST_F(ZkConnTest, WatchesAndLocksCarryOnAfterServerRestart) {
  ZkConnOptions quick;
  quick.op_timeout = absl::Seconds(1);
  std::unique_ptr<ZkConn> conn = Open({}, quick);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Create("/cell/tablets/t1", "one").ok());
  Events node_events, dir_events;
  auto watch = conn->Watch("/cell/tablets/t1", node_events.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto dir_watch = conn->WatchDir("/cell", dir_events.Callback());
  ASSERT_TRUE(dir_watch.ok()) << dir_watch.status();
  auto lock = conn->Lock("/ks", "held across the restart", absl::Seconds(5));
  ASSERT_TRUE(lock.ok()) << lock.status();

  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(node_events.WaitFor(0, IsError).has_value());
  std::optional<WatchEvent> error = dir_events.WaitFor(0, IsError);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(absl::IsUnavailable(error->error)) << error->error;

  const absl::Time start = absl::Now();
  absl::StatusOr<Versioned> during = conn->Get("/cell/tablets/t1");
  EXPECT_TRUE(absl::IsUnavailable(during.status())) << during.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(conn->Create("/x", "x").status()));
  EXPECT_TRUE((*lock)->Check().ok()) << "a short outage does not lose the lock";

  const size_t node_seen = node_events.size();
  const size_t dir_seen = dir_events.size();
  ASSERT_TRUE(server_->Restart().ok());
  // The watches re-read and report the current value again.
  ASSERT_TRUE(node_events.WaitFor(node_seen, IsValue("one")).has_value());
  ASSERT_TRUE(dir_events.WaitFor(dir_seen, IsValue("one")).has_value());

  // And they carry on: later writes (from another client) are reported.
  std::unique_ptr<ZkConn> writer = Open();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Update("/cell/tablets/t1", "two", std::nullopt).ok());
  ASSERT_TRUE(writer->Create("/cell/tablets/t2", "new tablet").ok());
  EXPECT_TRUE(node_events.WaitFor(node_seen, IsValue("two")).has_value());
  EXPECT_TRUE(dir_events.WaitFor(dir_seen, IsValue("new tablet")).has_value());

  // The same session lives on: the lock is still held and still excludes.
  EXPECT_TRUE((*lock)->Check().ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      writer->Lock("/ks", "intruder", absl::Milliseconds(200)).status()));
  EXPECT_TRUE((*lock)->Unlock().ok());
  EXPECT_TRUE(writer->Lock("/ks", "next", absl::Seconds(5)).ok());
}

// A read that starts during an outage waits for the reconnection (within its
// deadline) instead of failing.
TEST_F(ZkConnTest, ReadsRetryUntilTheServerIsBack) {
  // A short session, so that the client's connect timeout (2/3 of it) is short
  // too: the server accepts connections a little before it serves them.
  ConnOptions options;
  options.lock_ttl = absl::Seconds(3);
  std::unique_ptr<ZkConn> conn = Open(options);  // op_timeout 10s
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Create("/r", "v").ok());
  ASSERT_TRUE(server_->Stop().ok());
  absl::StatusOr<Versioned> got;
  std::thread reader([&] { got = conn->Get("/r"); });
  ASSERT_TRUE(server_->Restart().ok());
  reader.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->value, "v");
}

// A lock whose holder's session expires (a partition longer than its
// lock_ttl) is released to the next client; the old holder learns it lost
// the lock, and once the partition heals its Conn carries on with a new
// session and its watch re-reads.
TEST_F(ZkConnTest, ExpiredSessionReleasesItsLock) {
  auto proxy = ZkTestProxy::Start(server_->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ConnOptions short_ttl;
  short_ttl.lock_ttl = absl::Seconds(1);
  auto holder = ZkConn::Open(absl::StrCat("zk://127.0.0.1:", (*proxy)->port(), root_), short_ttl);
  ASSERT_TRUE(holder.ok()) << holder.status();
  std::unique_ptr<ZkConn> other = Open();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE((*holder)->Create("/w", "before").ok());
  Events events;
  auto watch = (*holder)->Watch("/w", events.Callback());
  ASSERT_TRUE(watch.ok());
  auto lock = (*holder)->Lock("/ks", "old holder", absl::Seconds(5));
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_TRUE((*lock)->Check().ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      other->Lock("/ks", "waiting", absl::Milliseconds(200)).status()));

  (*proxy)->Partition();
  ASSERT_TRUE(events.WaitFor(0, IsError).has_value());
  // The server expires the holder's session after 1s, which frees the lock.
  auto taken = other->Lock("/ks", "new holder", kWait);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(other->Get("/ks/locks/lock")->value, "new holder");
  // The holder finds out once its connection has been down for its session timeout.
  absl::Status check = (*lock)->Check();
  for (const absl::Time deadline = absl::Now() + kWait; check.ok() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(20));  // poll interval
    check = (*lock)->Check();
  }
  EXPECT_TRUE(absl::IsAborted(check)) << check;

  const size_t seen = events.size();
  (*proxy)->Heal();
  EXPECT_TRUE(absl::IsAborted((*lock)->Unlock()));
  EXPECT_EQ(other->Get("/ks/locks/lock")->value, "new holder") << "Unlock of a lost lock";
  // The watch reports the current value once the new session is up, then carries on.
  EXPECT_TRUE(events.WaitFor(seen, IsValue("before")).has_value());
  ASSERT_TRUE(other->Update("/w", "after", std::nullopt).ok());
  EXPECT_TRUE(events.WaitFor(seen, IsValue("after")).has_value());
  EXPECT_EQ((*holder)->Get("/w")->value, "after");
  // And the lock can be taken again once released.
  EXPECT_TRUE((*taken)->Unlock().ok());
  EXPECT_TRUE((*holder)->Lock("/ks", "back", absl::Seconds(5)).ok());
}

// A waiter that gives up while the ensemble is down cannot delete its queue
// node then; the session deletes it once the server is back, so it does not
// block the lock for as long as its session lives.
TEST_F(ZkConnTest, WaiterGivingUpDuringAnOutageLeavesNoNodeBehind) {
  std::unique_ptr<ZkConn> holder = Open();
  std::unique_ptr<ZkConn> waiter = Open();
  std::unique_ptr<ZkConn> next = Open();
  ASSERT_TRUE(holder && waiter && next);
  auto lock = holder->Lock("/ks", "holder", absl::Seconds(5));
  ASSERT_TRUE(lock.ok()) << lock.status();
  absl::StatusOr<std::unique_ptr<LockHandle>> gave_up;
  std::thread waiting([&] { gave_up = waiter->Lock("/ks", "waiter", absl::Seconds(2)); });
  // Wait (on the raw znodes) until the waiter has joined the queue.
  zk_internal::ZkSessionOptions raw_options;
  raw_options.hosts = server_->hosts();
  auto raw = zk_internal::ZkSession::Connect(raw_options);
  ASSERT_TRUE(raw.ok()) << raw.status();
  const std::string zlocks = root_ + "/ks/locks";
  for (const absl::Time deadline = absl::Now() + kWait; absl::Now() < deadline;) {
    if ((*raw)->Children(zlocks, 0, deadline).children.size() == 3) break;  // lock + 2 waiters
    absl::SleepFor(absl::Milliseconds(10));  // poll interval
  }
  ASSERT_EQ((*raw)->Children(zlocks, 0, absl::Now() + kWait).children.size(), 3u);
  raw->reset();

  ASSERT_TRUE(server_->Stop().ok());
  waiting.join();
  EXPECT_FALSE(gave_up.ok());
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE((*lock)->Unlock().ok());
  auto taken = next->Lock("/ks", "next", absl::Seconds(20));
  EXPECT_TRUE(taken.ok()) << taken.status();
}

// Several endpoints in one address: the client finds the live one.
TEST_F(ZkConnTest, FailsOverToALiveEndpoint) {
  absl::StatusOr<int> dead = ZkTestServer::FreePort();
  ASSERT_TRUE(dead.ok());
  const std::string dead_host = absl::StrCat("127.0.0.1:", *dead);
  for (const std::string& hosts : {absl::StrCat(dead_host, ",", server_->hosts()),
                                   absl::StrCat(server_->hosts(), ",", dead_host)}) {
    SCOPED_TRACE(hosts);
    auto conn = ZkConn::Open(absl::StrCat("zk://", hosts, root_), ConnOptions{});
    ASSERT_TRUE(conn.ok()) << conn.status();
    EXPECT_TRUE((*conn)->Update("/endpoint", hosts, std::nullopt).ok());
    EXPECT_EQ((*conn)->Get("/endpoint")->value, hosts);
  }
}

TEST_F(ZkConnTest, NoLiveEndpointIsUnavailable) {
  absl::StatusOr<int> dead = ZkTestServer::FreePort();
  ASSERT_TRUE(dead.ok());
  ZkConnOptions quick;
  quick.connect_timeout = absl::Milliseconds(500);
  const absl::Time start = absl::Now();
  auto conn = ZkConn::Open(absl::StrCat("zk://127.0.0.1:", *dead, "/r"), ConnOptions{}, quick);
  EXPECT_TRUE(absl::IsUnavailable(conn.status())) << conn.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace shale::topo
