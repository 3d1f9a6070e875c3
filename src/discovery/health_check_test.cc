// HealthCheck with real tablets in-process and fake health streams: serving,
// errors, timeouts, alias mismatches, type changes, primary terms.

#include "discovery/health_check.h"

#include "absl/strings/match.h"
#include "discovery/discovery_test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::discovery {
namespace {

using ::testing::HasSubstr;

class HealthCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hc_ = std::make_unique<HealthCheck>(FastHealthCheckOptions(&connections_));
    hc_->Start();
  }
  void TearDown() override { hc_->Stop(); }

  TabletHealthPtr Get(const std::string& cell, uint32_t uid) { return hc_->Get({cell, uid}); }

  // Waits until the tablet's snapshot satisfies pred.
  bool WaitFor(const std::string& cell, uint32_t uid,
               const std::function<bool(const TabletHealth&)>& pred) {
    return WaitUntil([&] {
      TabletHealthPtr h = Get(cell, uid);
      return h != nullptr && pred(*h);
    });
  }

  TestCluster cluster_;
  std::atomic<int> connections_{0};
  std::unique_ptr<HealthCheck> hc_;
};

TEST_F(HealthCheckTest, RealTabletBecomesServing) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(hc_->AddTablet(cluster_.Record("zone1", 1)).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());

  TabletList healthy = hc_->GetHealthy("app", "0", topodata::REPLICA);
  ASSERT_EQ(healthy->size(), 1u);
  const TabletHealth& h = *(*healthy)[0];
  EXPECT_EQ(h.alias, (topo::TabletAlias{"zone1", 1}));
  EXPECT_EQ(h.address, "127.0.0.1:" + std::to_string(server->grpc_port()));
  EXPECT_EQ(h.target.ToString(), "app/0@REPLICA");
  EXPECT_TRUE(h.IsServing());
  EXPECT_TRUE(h.stream_up);
  EXPECT_GE(h.messages, 1);
  ASSERT_NE(h.conn, nullptr);
  EXPECT_EQ(h.conn->address(), h.address);
  EXPECT_TRUE(hc_->GetHealthy("app", "0", topodata::RDONLY)->empty());
  EXPECT_EQ(hc_->GetAll().size(), 1u);

  // Adding the same record again changes nothing: still one connection.
  ASSERT_TRUE(hc_->AddTablet(cluster_.Record("zone1", 1)).ok());
  EXPECT_EQ(connections_.load(), 1);
  EXPECT_EQ(hc_->Stats().streams_open, 1);
}

TEST_F(HealthCheckTest, IncompleteRecordIsRefused) {
  topodata::Tablet r = MakeRecord("zone1", 5, 1234, topodata::REPLICA);
  r.mutable_port_map()->clear();
  EXPECT_EQ(hc_->AddTablet(r).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(hc_->GetAll().empty());
}

TEST_F(HealthCheckTest, StoppedTabletIsNotServing) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(hc_->AddTablet(cluster_.Record("zone1", 1)).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  server->Stop();
  ASSERT_TRUE(WaitFor("zone1", 1, [](const TabletHealth& h) { return !h.IsServing(); }));
  TabletHealthPtr h = Get("zone1", 1);
  EXPECT_FALSE(h->stream_up);
  EXPECT_THAT(h->last_error, HasSubstr("health stream"));
  EXPECT_TRUE(hc_->GetHealthy("app", "0", topodata::REPLICA)->empty());
  EXPECT_EQ(hc_->cache().All({"app", "0", topodata::REPLICA})->size(), 1u);
  EXPECT_GE(hc_->Stats().stream_errors, 1);
  // It keeps trying: further attempts fail too.
  const int64_t starts = hc_->Stats().stream_starts;
  EXPECT_TRUE(WaitUntil([&] { return hc_->Stats().stream_starts > starts + 1; }));
  EXPECT_FALSE(Get("zone1", 1)->IsServing());
}

TEST_F(HealthCheckTest, RestartedTabletServesAgain) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  const topodata::Tablet record = cluster_.Record("zone1", 1);
  ASSERT_TRUE(hc_->AddTablet(record).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  const int port = server->grpc_port();
  server.reset();
  ASSERT_TRUE(WaitFor("zone1", 1, [](const TabletHealth& h) { return !h.IsServing(); }));

  // The tablet comes back on a new port: the record change reconnects.
  server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  const topodata::Tablet moved = cluster_.Record("zone1", 1);
  ASSERT_TRUE(hc_->ReplaceTablet(moved).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  EXPECT_EQ(Get("zone1", 1)->address, "127.0.0.1:" + std::to_string(server->grpc_port()));
  // A new port is a new connection; the same port (rare) keeps the old one.
  EXPECT_EQ(connections_.load(), server->grpc_port() != port ? 2 : 1);
}

TEST_F(HealthCheckTest, TabletRestartedOnTheSamePortIsFoundAgain) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  const int port = server->grpc_port();
  ASSERT_TRUE(hc_->AddTablet(cluster_.Record("zone1", 1)).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  server.reset();
  // Several failed attempts: from the third on, each uses a new connection.
  const int64_t starts = hc_->Stats().stream_starts;
  ASSERT_TRUE(WaitUntil([&] { return hc_->Stats().stream_starts >= starts + 5; }));
  EXPECT_GE(connections_.load(), 2);
  EXPECT_FALSE(Get("zone1", 1)->IsServing());

  tablet::TabletServerOptions o;
  o.alias = {"zone1", 1};
  o.hostname = "127.0.0.1";
  o.grpc_port = port;
  o.enable_http = false;
  o.data_dir = cluster_.dir.path() + "/zone1-1";
  o.health_interval = kHealthInterval;
  auto restarted = tablet::TabletServer::Start(&cluster_.ts, o);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  EXPECT_EQ(Get("zone1", 1)->conn->address(), "127.0.0.1:" + std::to_string(port));
}

TEST_F(HealthCheckTest, AliasMismatchStaysUnhealthyUntilTheRecordChanges) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(hc_->AddTablet(cluster_.Record("zone1", 1)).ok());
  // zone1-300's record points at zone1-1's port (a reused host:port).
  ASSERT_TRUE(
      hc_->AddTablet(MakeRecord("zone1", 300, server->grpc_port(), topodata::REPLICA)).ok());
  ASSERT_TRUE(WaitFor("zone1", 300, [](const TabletHealth& h) {
    return absl::StrContains(h.last_error, "alias mismatch");
  }));
  TabletHealthPtr h = Get("zone1", 300);
  EXPECT_FALSE(h->IsServing());
  EXPECT_THAT(h->last_error, HasSubstr("zone1-1"));
  EXPECT_EQ(hc_->Stats().alias_mismatches, 1);

  // While zone1-1 keeps streaming, zone1-300 is not retried.
  UpdateCounter updates(hc_.get());
  ASSERT_TRUE(updates.WaitForMore(5));
  EXPECT_EQ(hc_->Stats().alias_mismatches, 1);
  EXPECT_FALSE(Get("zone1", 300)->IsServing());
  TabletList serving = hc_->GetHealthy("app", "0", topodata::REPLICA);
  ASSERT_EQ(serving->size(), 1u);
  EXPECT_EQ((*serving)[0]->alias.uid, 1u);

  // The record changes (the real zone1-300 starts): it serves.
  auto other = cluster_.StartTablet(300, topodata::REPLICA);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(hc_->ReplaceTablet(cluster_.Record("zone1", 300)).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 2, kWait).ok());
}

TEST_F(HealthCheckTest, TypeChangeMovesBetweenKeysOnTheSameStream) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(hc_->AddTablet(cluster_.Record("zone1", 1)).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  const int64_t starts = hc_->Stats().stream_starts;

  TabletHealthPtr h = Get("zone1", 1);
  tablet::ChangeTypeRequest req;
  req.set_tablet_type(topodata::RDONLY);
  auto changed = h->conn->Call(h->conn->manager(), &tablet::TabletManager::Stub::ChangeType, req);
  ASSERT_TRUE(changed.ok()) << changed.status();

  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::RDONLY, 1, kWait).ok());
  EXPECT_TRUE(hc_->GetHealthy("app", "0", topodata::REPLICA)->empty());
  EXPECT_TRUE(hc_->cache().All({"app", "0", topodata::REPLICA})->empty());
  // The record follows; a type-only change keeps the stream and the connection.
  ASSERT_TRUE(WaitUntil([&] { return cluster_.Record("zone1", 1).type() == topodata::RDONLY; }));
  ASSERT_TRUE(hc_->ReplaceTablet(cluster_.Record("zone1", 1)).ok());
  EXPECT_EQ(Get("zone1", 1)->tablet.type(), topodata::RDONLY);
  EXPECT_EQ(hc_->Stats().stream_starts, starts);
  EXPECT_EQ(connections_.load(), 1);
}

TEST_F(HealthCheckTest, QuietStreamTimesOutAndReconnects) {
  FakeTablet fake;
  fake.Set(FakeTablet::Healthy("zone1", 7, topodata::REPLICA));
  ASSERT_TRUE(hc_->AddTablet(MakeRecord("zone1", 7, fake.port(), topodata::REPLICA)).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  fake.SetSilent(true);
  ASSERT_TRUE(WaitFor("zone1", 7, [](const TabletHealth& h) { return !h.IsServing(); }));
  EXPECT_THAT(Get("zone1", 7)->last_error, HasSubstr("no health message for 2s"));
  // A new stream was opened; once the tablet talks again it serves.
  ASSERT_TRUE(WaitUntil([&] { return fake.streams_started() >= 2; }));
  fake.SetSilent(false);
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
}

TEST_F(HealthCheckTest, TabletReportedHealthErrorIsNotServing) {
  FakeTablet fake;
  tablet::StreamHealthResponse msg = FakeTablet::Healthy("zone1", 7, topodata::REPLICA);
  msg.mutable_realtime_stats()->set_health_error("replication is broken");
  fake.Set(msg);
  ASSERT_TRUE(hc_->AddTablet(MakeRecord("zone1", 7, fake.port(), topodata::REPLICA)).ok());
  ASSERT_TRUE(WaitFor("zone1", 7, [](const TabletHealth& h) { return h.stream_up; }));
  EXPECT_FALSE(Get("zone1", 7)->IsServing());
  EXPECT_EQ(Get("zone1", 7)->health_error, "replication is broken");
  fake.Set(FakeTablet::Healthy("zone1", 7, topodata::REPLICA));
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
}

TEST_F(HealthCheckTest, GetPrimaryIgnoresADeposedPrimary) {
  FakeTablet old_primary, new_primary;
  old_primary.Set(FakeTablet::Healthy("zone1", 1, topodata::PRIMARY, /*term=*/4));
  ASSERT_TRUE(hc_->AddTablet(MakeRecord("zone1", 1, old_primary.port(), topodata::PRIMARY)).ok());
  ASSERT_TRUE(WaitUntil([&] { return hc_->GetPrimary("app", "0").ok(); }));
  EXPECT_EQ((*hc_->GetPrimary("app", "0"))->alias.uid, 1u);

  // A new primary with a newer term; the old one still claims PRIMARY.
  new_primary.Set(FakeTablet::Healthy("zone2", 2, topodata::PRIMARY, /*term=*/5));
  ASSERT_TRUE(hc_->AddTablet(MakeRecord("zone2", 2, new_primary.port(), topodata::PRIMARY)).ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto p = hc_->GetPrimary("app", "0");
    return p.ok() && (*p)->alias.uid == 2u;
  }));
  EXPECT_EQ(hc_->GetHealthy("app", "0", topodata::PRIMARY)->size(), 2u);

  // The new primary goes down: the deposed one is still not returned.
  new_primary.Stop();
  ASSERT_TRUE(WaitFor("zone2", 2, [](const TabletHealth& h) { return !h.IsServing(); }));
  absl::StatusOr<TabletHealthPtr> p = hc_->GetPrimary("app", "0");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(p.status().message(), HasSubstr("no serving PRIMARY tablet for app/0"));
  EXPECT_THAT(p.status().message(), HasSubstr("term 5"));
  EXPECT_THAT(p.status().message(), HasSubstr("zone2-2"));
  // Even once it is forgotten.
  hc_->RemoveTablet({"zone2", 2});
  EXPECT_FALSE(hc_->GetPrimary("app", "0").ok());
}

TEST_F(HealthCheckTest, SubscribersSeeEveryChangeUntilUnsubscribed) {
  FakeTablet fake;
  fake.Set(FakeTablet::Healthy("zone1", 7, topodata::REPLICA));
  absl::Mutex mu;
  std::vector<TabletHealthPtr> seen;
  const int id = hc_->Subscribe([&](const TabletHealthPtr& h) {
    absl::MutexLock l(&mu);
    seen.push_back(h);
  });
  ASSERT_TRUE(hc_->AddTablet(MakeRecord("zone1", 7, fake.port(), topodata::REPLICA)).ok());
  ASSERT_TRUE(WaitUntil([&] {
    absl::MutexLock l(&mu);
    return seen.size() >= 3;
  }));
  hc_->Unsubscribe(id);
  size_t count = 0;
  {
    absl::MutexLock l(&mu);
    count = seen.size();
    EXPECT_FALSE(seen[0]->IsServing());  // the new tablet, before its first message
    EXPECT_TRUE(seen[1]->IsServing());
    EXPECT_EQ(seen[1]->alias, (topo::TabletAlias{"zone1", 7}));
  }
  UpdateCounter more(hc_.get());
  ASSERT_TRUE(more.WaitForMore(3));
  absl::MutexLock l(&mu);
  EXPECT_EQ(seen.size(), count);
}

TEST_F(HealthCheckTest, RemoveTabletClosesItsStream) {
  FakeTablet fake;
  fake.Set(FakeTablet::Healthy("zone1", 7, topodata::REPLICA));
  ASSERT_TRUE(hc_->AddTablet(MakeRecord("zone1", 7, fake.port(), topodata::REPLICA)).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  hc_->RemoveTablet({"zone1", 7});
  EXPECT_EQ(Get("zone1", 7), nullptr);
  EXPECT_TRUE(hc_->GetHealthy("app", "0", topodata::REPLICA)->empty());
  EXPECT_TRUE(hc_->cache().Keys().empty());
  EXPECT_TRUE(WaitUntil([&] { return hc_->Stats().streams_open == 0; }));
}

}  // namespace
}  // namespace shale::discovery
