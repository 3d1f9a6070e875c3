// SrvKeyspaceWatcher on the memory topology: first-use watches served from
// memory, changes with callbacks, the routing policy and cells, outages.

#include "discovery/srv_keyspace_watcher.h"

#include "discovery/discovery_test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/paths.h"

namespace shale::discovery {
namespace {

// Records every change a SrvKeyspaceWatcher announces.
class ChangeLog {
 public:
  explicit ChangeLog(SrvKeyspaceWatcher* w) : w_(w) {
    id_ = w_->Subscribe([this](const ServingChange& c) {
      absl::MutexLock l(&mu_);
      changes_.push_back(c);
    });
  }
  ~ChangeLog() { w_->Unsubscribe(id_); }
  // Waits for a change of kind (for cell/keyspace if given).
  bool WaitFor(ServingChange::Kind kind, const std::string& cell = "",
               const std::string& keyspace = "") {
    return WaitUntil([&] {
      absl::MutexLock l(&mu_);
      for (const ServingChange& c : changes_) {
        if (c.kind == kind && (cell.empty() || c.cell == cell) &&
            (keyspace.empty() || c.keyspace == keyspace)) {
          return true;
        }
      }
      return false;
    });
  }
  void Clear() {
    absl::MutexLock l(&mu_);
    changes_.clear();
  }

 private:
  SrvKeyspaceWatcher* const w_;
  int id_ = 0;
  absl::Mutex mu_;
  std::vector<ServingChange> changes_ ABSL_GUARDED_BY(mu_);
};

topodata::SrvKeyspace Srv(const std::string& column) {
  topodata::SrvKeyspace s;
  s.set_sharding_column_name(column);
  auto* p = s.add_partitions();
  p->set_served_type(topodata::PRIMARY);
  p->add_shard_references()->set_name("0");
  return s;
}

class SrvKeyspaceWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SrvKeyspaceWatcherOptions o;
    o.retry_initial = absl::Milliseconds(20);
    o.retry_max = absl::Milliseconds(200);
    watcher_ = std::make_unique<SrvKeyspaceWatcher>(&cluster_.ts, o);
  }

  TestCluster cluster_;
  std::unique_ptr<SrvKeyspaceWatcher> watcher_;
};

TEST_F(SrvKeyspaceWatcherTest, SrvKeyspaceIsWatchedOnFirstUseThenServedFromMemory) {
  ASSERT_TRUE(cluster_.ts.PutSrvKeyspace("zone1", "app", Srv("id")).ok());
  watcher_->Start();
  ChangeLog log(watcher_.get());
  auto srv = watcher_->GetSrvKeyspace("zone1", "app");
  ASSERT_TRUE(srv.ok()) << srv.status();
  EXPECT_EQ((*srv)->sharding_column_name(), "id");

  const int64_t reads = cluster_.memory.read_count();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(watcher_->GetSrvKeyspace("zone1", "app").ok());
  EXPECT_EQ(cluster_.memory.read_count(), reads);

  // A change arrives through the watch: no read either (PutSrvKeyspace itself
  // reads the CellInfo, so count from after it).
  ASSERT_TRUE(cluster_.ts.PutSrvKeyspace("zone1", "app", Srv("user_id")).ok());
  const int64_t reads_after_put = cluster_.memory.read_count();
  ASSERT_TRUE(log.WaitFor(ServingChange::Kind::kSrvKeyspace, "zone1", "app"));
  EXPECT_EQ((*watcher_->GetSrvKeyspace("zone1", "app"))->sharding_column_name(), "user_id");
  EXPECT_EQ(cluster_.memory.read_count(), reads_after_put);
}

TEST_F(SrvKeyspaceWatcherTest, MissingSrvKeyspaceIsSeenWhenCreatedAndDeleted) {
  watcher_->Start();
  ChangeLog log(watcher_.get());
  auto srv = watcher_->GetSrvKeyspace("zone2", "app");
  EXPECT_EQ(srv.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(srv.status().message(), ::testing::HasSubstr("keyspace app in cell zone2"));

  ASSERT_TRUE(cluster_.ts.PutSrvKeyspace("zone2", "app", Srv("id")).ok());
  ASSERT_TRUE(log.WaitFor(ServingChange::Kind::kSrvKeyspace, "zone2", "app"));
  ASSERT_TRUE(watcher_->GetSrvKeyspace("zone2", "app").ok());
  log.Clear();
  ASSERT_TRUE(cluster_.ts.DeleteSrvKeyspace("zone2", "app").ok());
  ASSERT_TRUE(log.WaitFor(ServingChange::Kind::kSrvKeyspace, "zone2", "app"));
  EXPECT_EQ(watcher_->GetSrvKeyspace("zone2", "app").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SrvKeyspaceWatcherTest, UnknownCellIsAnError) {
  watcher_->Start();
  EXPECT_EQ(watcher_->GetSrvKeyspace("nowhere", "app").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SrvKeyspaceWatcherTest, RoutingPolicyChangesApplyAtOnce) {
  watcher_->Start();
  ChangeLog log(watcher_.get());
  // None stored: the default.
  EXPECT_EQ(watcher_->GetRoutingPolicy()->DebugString(), topo::DefaultRoutingPolicy().DebugString());

  topodata::RoutingPolicy p;
  auto* rule = p.add_rules();
  rule->set_scope(topodata::RoutingPolicy::ANY_CELL);
  rule->set_max_lag_seconds(5);
  rule->set_min_serving_tablets(1);
  p.set_never_above_lag_seconds(60);
  ASSERT_TRUE(cluster_.ts.SetRoutingPolicy(p).ok());
  ASSERT_TRUE(log.WaitFor(ServingChange::Kind::kRoutingPolicy));
  EXPECT_EQ(watcher_->GetRoutingPolicy()->never_above_lag_seconds(), 60);

  log.Clear();
  p.set_never_above_lag_seconds(90);
  ASSERT_TRUE(cluster_.ts.SetRoutingPolicy(p).ok());
  ASSERT_TRUE(log.WaitFor(ServingChange::Kind::kRoutingPolicy));
  EXPECT_EQ(watcher_->GetRoutingPolicy()->never_above_lag_seconds(), 90);

  // Deleted: back to the default.
  log.Clear();
  ASSERT_TRUE(cluster_.ts.global().Delete(topo::paths::RoutingPolicy(), std::nullopt).ok());
  ASSERT_TRUE(log.WaitFor(ServingChange::Kind::kRoutingPolicy));
  EXPECT_EQ(watcher_->GetRoutingPolicy()->DebugString(), topo::DefaultRoutingPolicy().DebugString());
}

TEST_F(SrvKeyspaceWatcherTest, CellRegionsAreWatched) {
  watcher_->Start();
  ChangeLog log(watcher_.get());
  EXPECT_EQ(watcher_->RegionOf("zone1"), "r1");
  EXPECT_EQ(watcher_->RegionOf("zone3"), "r2");
  EXPECT_EQ(watcher_->GetCells()->size(), 3u);
  topodata::CellInfo info;
  info.set_region("r9");
  ASSERT_TRUE(cluster_.ts.AddCellInfo("zone4", info).ok());
  ASSERT_TRUE(log.WaitFor(ServingChange::Kind::kCellInfo, "zone4"));
  EXPECT_EQ(watcher_->RegionOf("zone4"), "r9");
  EXPECT_EQ(watcher_->RegionOf("zone9"), "");
}

TEST_F(SrvKeyspaceWatcherTest, OutageKeepsLastKnownValues) {
  ASSERT_TRUE(cluster_.ts.PutSrvKeyspace("zone1", "app", Srv("id")).ok());
  watcher_->Start();
  ChangeLog log(watcher_.get());
  ASSERT_TRUE(watcher_->GetSrvKeyspace("zone1", "app").ok());
  cluster_.memory.SetUnavailable(true);
  // Known values stay; a first use during the outage is Unavailable.
  auto srv = watcher_->GetSrvKeyspace("zone1", "app");
  ASSERT_TRUE(srv.ok());
  EXPECT_EQ((*srv)->sharding_column_name(), "id");
  EXPECT_EQ(watcher_->RegionOf("zone1"), "r1");
  EXPECT_EQ(watcher_->GetSrvKeyspace("zone2", "app").status().code(),
            absl::StatusCode::kUnavailable);
  cluster_.memory.SetUnavailable(false);
  // The failed first use is retried in the background.
  ASSERT_TRUE(cluster_.ts.PutSrvKeyspace("zone2", "app", Srv("k")).ok());
  ASSERT_TRUE(WaitUntil([&] { return watcher_->GetSrvKeyspace("zone2", "app").ok(); }));
  EXPECT_EQ((*watcher_->GetSrvKeyspace("zone1", "app"))->sharding_column_name(), "id");
}

TEST_F(SrvKeyspaceWatcherTest, StartDuringAnOutageRetriesInTheBackground) {
  topodata::RoutingPolicy p = topo::DefaultRoutingPolicy();
  p.set_never_above_lag_seconds(77);
  ASSERT_TRUE(cluster_.ts.SetRoutingPolicy(p).ok());
  cluster_.memory.SetUnavailable(true);
  watcher_->Start();
  EXPECT_EQ(watcher_->GetRoutingPolicy()->never_above_lag_seconds(), 7200);  // the default
  EXPECT_TRUE(watcher_->GetCells()->empty());
  cluster_.memory.SetUnavailable(false);
  ASSERT_TRUE(WaitUntil([&] { return watcher_->GetRoutingPolicy()->never_above_lag_seconds() == 77; }));
  EXPECT_EQ(watcher_->RegionOf("zone2"), "r1");
}

}  // namespace
}  // namespace shale::discovery
