// FailoverController against fake tablets (ctl/fake_tablet.h) on the memory
// topology: a dead primary is replaced, a live one is left alone, two
// controllers do not both act, and attempts are counted and kept.

#include <memory>

#include "base/metrics/registry.h"
#include "base/wait_for.h"
#include "ctl/fake_tablet.h"
#include "ctld/failover.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "topo/memory/memory_server.h"
#include "topo/server.h"

namespace shale::ctld {
namespace {

using ::testing::HasSubstr;
using ctl::fakes::FakeCluster;
using ctl::fakes::FakeTablet;

class FailoverControllerTest : public ::testing::Test {
 protected:
  FailoverControllerTest()
      : ts_(server_.NewConn()), other_ts_(server_.NewConn()), cluster_(&ts_) {}

  void SetUp() override {
    ASSERT_TRUE(ts_.AddCellInfo("zone1", {}).ok());
    ASSERT_TRUE(ts_.CreateKeyspace("app", {}).ok());
    ASSERT_TRUE(ts_.CreateShard("app", "0").ok());
  }

  std::unique_ptr<FailoverController> Controller(topo::Server* ts,
                                                 metrics::MetricsRegistry* metrics) {
    FailoverOptions o;
    o.failover_after = absl::Milliseconds(300);
    o.discovery_interval = absl::Milliseconds(200);
    o.retry_interval = absl::Milliseconds(500);
    o.metrics = metrics;
    auto c = std::make_unique<FailoverController>(ts, o);
    EXPECT_TRUE(c->Start().ok());
    return c;
  }

  topodata::Shard Shard() {
    auto s = ts_.GetShard("app", "0");
    return s.ok() ? s->record : topodata::Shard();
  }

  static double Counter(const metrics::MetricsRegistry& r, const std::string& outcome) {
    for (const auto& family : r.Snapshot()) {
      if (family.name != "shale_ctld_failovers_total") continue;
      for (const auto& sample : family.samples) {
        if (sample.label_values == std::vector<std::string>{outcome}) return sample.value;
      }
    }
    return -1;
  }

  topo::MemoryServer server_;
  topo::Server ts_;
  topo::Server other_ts_;
  FakeCluster cluster_;
};

TEST_F(FailoverControllerTest, ReplacesADeadPrimaryAndRecordsIt) {
  FakeTablet* p = cluster_.Add("zone1-101", "app", "0", topodata::PRIMARY, 10, 2);
  cluster_.Add("zone1-102", "app", "0", topodata::REPLICA, 9, 2);
  cluster_.Add("zone1-103", "app", "0", topodata::REPLICA, 10, 2);
  metrics::MetricsRegistry registry;
  auto c = Controller(&ts_, &registry);
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    nlohmann::json s = c->StatusJson();
    return s["shards"].size() == 1 && s["shards"][0]["health"]["health_messages"] > 0;
  })) << c->StatusJson().dump();
  EXPECT_EQ(c->StatusJson()["shards"][0]["primary"], "zone1-101");

  const absl::Time killed = absl::Now();
  p->Kill();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Shard().primary_term() == 3; }));
  const absl::Duration took = absl::Now() - killed;
  EXPECT_GE(took, absl::Milliseconds(300));  // not before --failover-after
  EXPECT_EQ(topo::TabletAlias::FromProto(Shard().primary_alias()).ToString(), "zone1-103");
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return c->history().Recent().size() == 1; }));
  ReparentEvent e = c->history().Recent()[0];
  EXPECT_EQ(e.outcome, ReparentEvent::Outcome::kSucceeded) << e.message;
  EXPECT_EQ(e.new_primary, "zone1-103");
  EXPECT_EQ(e.new_term, 3);
  EXPECT_THAT(e.trigger, HasSubstr("zone1-101 unreachable"));
  EXPECT_EQ(Counter(registry, "succeeded"), 1);
  EXPECT_EQ(Counter(registry, "failed"), 0);
  // The controller now watches the new primary.
  EXPECT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return c->StatusJson()["shards"][0]["primary"] == "zone1-103";
  }));
  EXPECT_THAT(c->StatusHtml(), HasSubstr("zone1-103"));
  c->Stop();
}

TEST_F(FailoverControllerTest, LeavesALivePrimaryAlone) {
  cluster_.Add("zone1-101", "app", "0", topodata::PRIMARY, 10, 2);
  cluster_.Add("zone1-102", "app", "0", topodata::REPLICA, 10, 2);
  auto c = Controller(&ts_, nullptr);
  // Several failover periods' worth of health messages (one per 50 ms).
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return c->StatusJson()["shards"][0]["health"]["health_messages"] > 30;
  }));
  EXPECT_TRUE(c->history().Recent().empty());
  EXPECT_EQ(Shard().primary_term(), 2);
  EXPECT_EQ(c->StatusJson()["shards"][0]["health"]["down"], false);
}

TEST_F(FailoverControllerTest, TwoControllersDoNotBothAct) {
  FakeTablet* p = cluster_.Add("zone1-101", "app", "0", topodata::PRIMARY, 10, 2);
  cluster_.Add("zone1-102", "app", "0", topodata::REPLICA, 10, 2);
  cluster_.Add("zone1-103", "app", "0", topodata::REPLICA, 10, 2);
  metrics::MetricsRegistry ra, rb;
  auto a = Controller(&ts_, &ra);
  auto b = Controller(&other_ts_, &rb);
  auto watching = [](FailoverController& c, const std::string& alias) {
    nlohmann::json s = c.StatusJson();
    return s["shards"].size() == 1 && s["shards"][0]["primary"] == alias &&
           s["shards"][0]["health"]["health_messages"] > 0 &&
           s["shards"][0]["failover_running"] == false;
  };
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] {
    return watching(*a, "zone1-101") && watching(*b, "zone1-101");
  }));
  p->Kill();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Shard().primary_term() >= 3; }));
  const std::string new_primary = topo::TabletAlias::FromProto(Shard().primary_alias()).ToString();
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    return watching(*a, new_primary) && watching(*b, new_primary);
  }));
  EXPECT_EQ(Shard().primary_term(), 3);  // exactly one failover
  EXPECT_EQ(Counter(ra, "succeeded") + Counter(rb, "succeeded"), 1);
  EXPECT_EQ(Counter(ra, "failed") + Counter(rb, "failed"), 0);
}

TEST_F(FailoverControllerTest, AFailedAttemptIsKeptAndRetried) {
  FakeTablet* p = cluster_.Add("zone1-101", "app", "0", topodata::PRIMARY, 10, 2);
  metrics::MetricsRegistry registry;
  auto c = Controller(&ts_, &registry);
  p->Kill();  // and no replica to promote
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Counter(registry, "failed") >= 2; }));
  std::vector<ReparentEvent> events = c->history().Recent();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, ReparentEvent::Outcome::kFailed);
  EXPECT_THAT(events[0].message, HasSubstr("no reachable REPLICA"));
  // Retries are spaced by retry_interval.
  EXPECT_GE(events[0].time - events[1].time, absl::Milliseconds(450));
  EXPECT_EQ(Shard().primary_term(), 2);
}

}  // namespace
}  // namespace shale::ctld
