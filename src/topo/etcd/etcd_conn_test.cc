// EtcdConn against a real etcd: dead endpoints, outages, lease expiry.
// The shared conformance suite (src/topo/conformance) covers the Conn API.

#include "topo/etcd/etcd_conn.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "topo/etcd/etcd_lock.h"
#include "topo/etcd/etcd_test_server.h"
#include "topo/etcd/etcd_test_util.h"

namespace shale::topo {
namespace {

using etcd_test::DeadEndpoint;
using etcd_test::Describe;
using etcd_test::Eventually;
using etcd_test::HasKind;
using etcd_test::HasValue;
using etcd_test::Recorder;
using Kind = WatchEvent::Kind;

std::string FreshRoot() {
  static int n = 0;
  return absl::StrCat("/etcd_conn_test_", ++n);
}

EtcdTestServer* SharedServer() {
  auto server = EtcdTestServer::Shared();
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *server : nullptr;
}

std::unique_ptr<EtcdConn> OpenOrDie(const std::string& address, const ConnOptions& options = {},
                                    const EtcdClientOptions& client_options = {}) {
  auto conn = EtcdConn::Open(address, options, client_options);
  EXPECT_TRUE(conn.ok()) << address << ": " << conn.status();
  return conn.ok() ? *std::move(conn) : nullptr;
}

TEST(EtcdConnTest, OpenFailsQuicklyNamingTheDeadEndpoint) {
  const std::string dead = DeadEndpoint();
  const absl::Time start = absl::Now();
  auto conn = EtcdConn::Open(absl::StrCat("etcd://", dead, "/x"), {});
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable) << conn.status();
  EXPECT_TRUE(absl::StrContains(conn.status().message(), dead)) << conn.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(EtcdConn::Open("etcd://h:x/r", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EtcdConnTest, ADeadFirstEndpointIsSkipped) {
  EtcdTestServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  const std::string address =
      absl::StrCat("etcd://", DeadEndpoint(), ",", server->endpoint(), FreshRoot());
  std::unique_ptr<EtcdConn> conn = OpenOrDie(address);
  ASSERT_NE(conn, nullptr);
  auto version = conn->Create("/a", "1");
  ASSERT_TRUE(version.ok()) << version.status();
  Recorder recorder;
  auto watch = conn->Watch("/a", recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(conn->Update("/a", "2", *version).ok());
  auto events = recorder.WaitUntil([](auto& e) { return HasValue(e, "2"); });
  EXPECT_TRUE(HasValue(events, "2")) << Describe(events);
  auto lock = conn->Lock("/ks", "holder", absl::Seconds(5));
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_TRUE((*lock)->Check().ok());
}

// Values are stored under ROOT: two roots on one server do not see each other.
TEST(EtcdConnTest, RootsAreIsolated) {
  EtcdTestServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<EtcdConn> a = OpenOrDie(server->Address(FreshRoot()));
  std::unique_ptr<EtcdConn> b = OpenOrDie(server->Address(FreshRoot()));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Create("/x", "a").ok());
  EXPECT_EQ(b->Get("/x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(b->ListDir("/").status().code(), absl::StatusCode::kNotFound);
}

// Stop the server under an open watch, write nothing, start it again, write:
// the watcher reports kError, then the current (unchanged) value, then the
// new one. Meanwhile a call fails quickly with Unavailable.
TEST(EtcdConnTest, WatchCarriesOnAfterAServerRestart) {
  auto server = EtcdTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  EtcdClientOptions client_options;
  client_options.call_timeout = absl::Seconds(2);
  std::unique_ptr<EtcdConn> conn = OpenOrDie((*server)->Address("/outage"), {}, client_options);
  ASSERT_NE(conn, nullptr);
  auto v1 = conn->Create("/w", "1");
  ASSERT_TRUE(v1.ok()) << v1.status();
  Recorder recorder;
  auto watch = conn->Watch("/w", recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();

  ASSERT_TRUE((*server)->Stop().ok());
  auto events = recorder.WaitUntil([](auto& e) { return !e.empty(); });
  ASSERT_EQ(events.size(), 1u) << Describe(events);
  EXPECT_EQ(events[0].kind, Kind::kError) << Describe(events);
  EXPECT_EQ(events[0].error.code(), absl::StatusCode::kUnavailable);

  const absl::Time start = absl::Now();
  auto during = conn->Get("/w");
  EXPECT_EQ(during.status().code(), absl::StatusCode::kUnavailable) << during.status();
  EXPECT_TRUE(absl::StrContains(during.status().message(), (*server)->endpoint()))
      << during.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));

  ASSERT_TRUE((*server)->Restart().ok());
  // The watcher re-announces the value it already had...
  events = recorder.WaitUntil([](auto& e) { return e.size() >= 2; });
  ASSERT_EQ(events.size(), 2u) << Describe(events);
  EXPECT_EQ(events[1].kind, Kind::kChanged);
  EXPECT_EQ(events[1].value, "1");
  EXPECT_EQ(events[1].version, *v1);
  // ...and carries on with new writes; the client reconnected too.
  ASSERT_TRUE(Eventually([&] { return conn->Get("/w").ok(); }, absl::Seconds(10)));
  auto v2 = conn->Update("/w", "2", *v1);
  ASSERT_TRUE(v2.ok()) << v2.status();
  events = recorder.WaitUntil([](auto& e) { return e.size() >= 3; });
  ASSERT_EQ(events.size(), 3u) << Describe(events);
  EXPECT_EQ(events[2].kind, Kind::kChanged);
  EXPECT_EQ(events[2].value, "2");
  EXPECT_EQ(events[2].version, *v2);
}

// Writes made while a watcher is disconnected are all delivered, in order,
// once it reconnects: the watch resumes from the last revision it saw.
TEST(EtcdConnTest, NoChangeIsMissedAcrossAReconnect) {
  auto server = EtcdTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->Address("/resume");
  std::unique_ptr<EtcdConn> watcher = OpenOrDie(address);
  std::unique_ptr<EtcdConn> writer = OpenOrDie(address);
  ASSERT_NE(watcher, nullptr);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Create("/d/c", "0").ok());
  Recorder recorder;
  auto watch = watcher->WatchDir("/d", recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status();

  ASSERT_TRUE((*server)->Stop().ok());
  recorder.WaitUntil([](auto& e) { return HasKind(e, Kind::kError); });
  ASSERT_TRUE((*server)->Restart().ok());
  // The watcher is still backing off: write before it is back.
  constexpr int kWrites = 20;
  ASSERT_TRUE(Eventually([&] { return writer->Update("/d/c", "1", std::nullopt).ok(); },
                         absl::Seconds(10)));
  for (int i = 2; i <= kWrites; ++i) {
    ASSERT_TRUE(writer->Update("/d/c", absl::StrCat(i), std::nullopt).ok());
  }
  ASSERT_TRUE(writer->Delete("/d/c", std::nullopt).ok());

  auto events = recorder.WaitUntil([](auto& e) { return HasKind(e, Kind::kDeleted); });
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].kind, Kind::kError) << Describe(events);
  std::vector<std::string> values;
  for (size_t i = 1; i < events.size(); ++i) {
    if (events[i].kind == Kind::kChanged) values.push_back(events[i].value);
  }
  if (!values.empty() && values.front() == "0") values.erase(values.begin());  // re-announced
  std::vector<std::string> want;
  for (int i = 1; i <= kWrites; ++i) want.push_back(absl::StrCat(i));
  EXPECT_EQ(values, want) << Describe(events);
  EXPECT_EQ(events.back().kind, Kind::kDeleted) << Describe(events);
}

// A lock whose holder stops renewing its lease (a hung or partitioned
// process) is freed once the lease expires, and the holder learns it lost it.
TEST(EtcdConnTest, LockIsFreedWhenItsLeaseExpires) {
  EtcdTestServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  const std::string address = server->Address(FreshRoot());
  ConnOptions short_ttl;
  short_ttl.lock_ttl = absl::Seconds(1);
  std::unique_ptr<EtcdConn> holder_conn = OpenOrDie(address, short_ttl);
  std::unique_ptr<EtcdConn> other = OpenOrDie(address);
  ASSERT_NE(holder_conn, nullptr);
  ASSERT_NE(other, nullptr);
  auto held = holder_conn->Lock("/ks", "holder", absl::Seconds(5));
  ASSERT_TRUE(held.ok()) << held.status();
  auto* handle = dynamic_cast<etcd_internal::EtcdLockHandle*>(held->get());
  ASSERT_NE(handle, nullptr);
  EXPECT_TRUE(handle->Check().ok());

  handle->StopRenewingForTesting();
  auto taken = other->Lock("/ks", "next holder", absl::Seconds(15));
  ASSERT_TRUE(taken.ok()) << taken.status();
  auto node = other->Get("/ks/locks/lock");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->value, "next holder");
  EXPECT_EQ(handle->Check().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(handle->Unlock().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE((*taken)->Check().ok());  // the old holder's Unlock did not touch it
}

TEST(EtcdConnTest, LockTimeoutNamesTheHolder) {
  EtcdTestServer* server = SharedServer();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<EtcdConn> conn = OpenOrDie(server->Address(FreshRoot()));
  ASSERT_NE(conn, nullptr);
  auto first = conn->Lock("/ks", "resharding by alice", absl::Seconds(5));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = conn->Lock("/ks", "bob", absl::Milliseconds(100));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "resharding by alice"))
      << second.status();
  // The failed attempt left nothing behind.
  auto entries = conn->ListDir("/ks/locks");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 1u);
}

}  // namespace
}  // namespace shale::topo
