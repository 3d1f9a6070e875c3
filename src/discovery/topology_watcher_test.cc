// TopologyWatcher + HealthCheck on the memory topology with real tablets:
// discovery by watch, no reads in steady state, outages, removals, filters.

#include "discovery/topology_watcher.h"

#include <thread>

#include "discovery/discovery_test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::discovery {
namespace {

class TopologyWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hc_ = std::make_unique<HealthCheck>(FastHealthCheckOptions(&connections_));
    hc_->Start();
  }
  void TearDown() override {
    if (watcher_ != nullptr) watcher_->Stop();
    hc_->Stop();
  }

  void StartWatcher(std::vector<std::string> keyspaces = {}) {
    TopologyWatcherOptions o;
    o.retry_initial = absl::Milliseconds(20);
    o.retry_max = absl::Milliseconds(200);
    o.keyspaces = std::move(keyspaces);
    watcher_ = std::make_unique<TopologyWatcher>(&cluster_.ts, "zone1", hc_.get(), o);
    watcher_->Start();
    ASSERT_TRUE(watcher_->WaitForFirstSync(kWait).ok());
  }

  std::vector<std::string> KnownAliases() {
    std::vector<std::string> out;
    for (const TabletHealthPtr& h : hc_->GetAll()) out.push_back(h->alias.ToString());
    return out;
  }

  TestCluster cluster_;
  std::atomic<int> connections_{0};
  std::unique_ptr<HealthCheck> hc_;
  std::unique_ptr<TopologyWatcher> watcher_;
};

TEST_F(TopologyWatcherTest, NewTabletIsFoundAndServes) {
  StartWatcher();
  EXPECT_TRUE(hc_->GetAll().empty());
  const absl::Time start = absl::Now();
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  std::cout << "found and serving after " << absl::FormatDuration(absl::Now() - start)
            << " (tablet startup included)\n";
  EXPECT_EQ(watcher_->Stats().tablets, 1);
  EXPECT_EQ(watcher_->Stats().resyncs, 1);
}

TEST_F(TopologyWatcherTest, NoTopologyReadsInSteadyState) {
  auto replica = cluster_.StartTablet(1, topodata::REPLICA);
  auto rdonly = cluster_.StartTablet(2, topodata::RDONLY);
  ASSERT_NE(replica, nullptr);
  ASSERT_NE(rdonly, nullptr);
  StartWatcher();
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::RDONLY, 1, kWait).ok());
  // Let the tablets' own startup writes settle (their records are final).
  ASSERT_TRUE(WaitUntil([&] { return replica->publisher().Status().in_sync; }));
  ASSERT_TRUE(WaitUntil([&] { return rdonly->publisher().Status().in_sync; }));

  const int64_t reads = cluster_.memory.read_count();
  const int64_t messages = hc_->Stats().health_updates;
  // ~10 health messages from each tablet.
  ASSERT_TRUE(WaitUntil([&] { return hc_->Stats().health_updates >= messages + 20; }));
  EXPECT_EQ(cluster_.memory.read_count(), reads);
  EXPECT_EQ(hc_->GetHealthy("app", "0", topodata::REPLICA)->size(), 1u);
  EXPECT_EQ(connections_.load(), 2);
}

TEST_F(TopologyWatcherTest, OutageDropsNothingAndNewTabletsAreFoundAfterIt) {
  auto first = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(first, nullptr);
  StartWatcher();
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  std::atomic<int> removals{0};
  const int id = hc_->Subscribe([&](const TabletHealthPtr& h) {
    if (h->last_error == "removed from the topology") ++removals;
  });

  cluster_.memory.SetUnavailable(true);
  ASSERT_TRUE(WaitUntil([&] { return watcher_->Stats().in_outage; }));
  // A re-read during the outage fails and keeps everything.
  const int64_t errors = watcher_->Stats().errors;
  watcher_->Refresh();
  ASSERT_TRUE(WaitUntil([&] { return watcher_->Stats().errors > errors; }));
  // Health keeps flowing from the known tablet.
  UpdateCounter updates(hc_.get());
  ASSERT_TRUE(updates.WaitForMore(5));
  EXPECT_EQ(hc_->GetHealthy("app", "0", topodata::REPLICA)->size(), 1u);
  EXPECT_EQ(hc_->GetAll().size(), 1u);

  // A tablet starts during the outage: it waits for the topology to register.
  std::unique_ptr<tablet::TabletServer> second;
  std::thread starter([&] { second = cluster_.StartTablet(2, topodata::REPLICA); });
  ASSERT_TRUE(updates.WaitForMore(3));
  cluster_.memory.SetUnavailable(false);
  starter.join();
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 2, kWait).ok());
  EXPECT_FALSE(watcher_->Stats().in_outage);
  EXPECT_EQ(removals.load(), 0);
  hc_->Unsubscribe(id);
}

TEST_F(TopologyWatcherTest, DeletedRecordIsForgotten) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  StartWatcher();
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  server.reset();
  ASSERT_TRUE(cluster_.ts.DeleteTablet({"zone1", 1}).ok());
  ASSERT_TRUE(WaitUntil([&] { return hc_->GetAll().empty(); }));
  EXPECT_EQ(watcher_->Stats().tablets, 0);
}

TEST_F(TopologyWatcherTest, TypeChangeMovesKeysAndKeepsTheStream) {
  auto server = cluster_.StartTablet(1, topodata::REPLICA);
  ASSERT_NE(server, nullptr);
  StartWatcher();
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 1, kWait).ok());
  const int64_t starts = hc_->Stats().stream_starts;
  TabletHealthPtr h = hc_->Get({"zone1", 1});
  tablet::ChangeTypeRequest req;
  req.set_tablet_type(topodata::RDONLY);
  ASSERT_TRUE(
      h->conn->Call(h->conn->manager(), &tablet::TabletManager::Stub::ChangeType, req).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::RDONLY, 1, kWait).ok());
  EXPECT_TRUE(hc_->GetHealthy("app", "0", topodata::REPLICA)->empty());
  // The tablet's record update reaches the HealthCheck through the watch.
  ASSERT_TRUE(WaitUntil([&] { return hc_->Get({"zone1", 1})->tablet.type() == topodata::RDONLY; }));
  EXPECT_EQ(hc_->Stats().stream_starts, starts);
  EXPECT_EQ(connections_.load(), 1);
}

TEST_F(TopologyWatcherTest, OnlyCompleteRecordsOfWatchedKeyspaces) {
  FakeTablet fake;
  ASSERT_TRUE(cluster_.ts.CreateTablet(MakeRecord("zone1", 1, fake.port(), topodata::REPLICA)).ok());
  ASSERT_TRUE(cluster_.ts
                  .CreateTablet(MakeRecord("zone1", 2, fake.port(), topodata::REPLICA, "other"))
                  .ok());
  topodata::Tablet incomplete = MakeRecord("zone1", 3, fake.port(), topodata::REPLICA);
  incomplete.mutable_port_map()->clear();
  ASSERT_TRUE(cluster_.ts.CreateTablet(incomplete).ok());
  StartWatcher({"app"});
  EXPECT_THAT(KnownAliases(), ::testing::ElementsAre("zone1-1"));

  // Completing the record makes it known.
  (*incomplete.mutable_port_map())["grpc"] = fake.port();
  ASSERT_TRUE(cluster_.ts.PutTablet(incomplete).ok());
  ASSERT_TRUE(WaitUntil([&] { return hc_->GetAll().size() == 2; }));
  EXPECT_THAT(KnownAliases(), ::testing::ElementsAre("zone1-1", "zone1-3"));
  // Another cell's tablets are another watcher's business.
  ASSERT_TRUE(cluster_.ts.CreateTablet(MakeRecord("zone2", 4, fake.port(), topodata::REPLICA)).ok());
  watcher_->Refresh();
  ASSERT_TRUE(WaitUntil([&] { return watcher_->Stats().resyncs == 2; }));
  EXPECT_THAT(KnownAliases(), ::testing::ElementsAre("zone1-1", "zone1-3"));
}

}  // namespace
}  // namespace shale::discovery
