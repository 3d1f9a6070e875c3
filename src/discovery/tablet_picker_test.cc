// The routing policy logic on synthetic snapshots (table-driven), and
// TabletPicker end to end with fake tablets and policy changes in the topology.

#include "discovery/tablet_picker.h"

#include <set>

#include "discovery/discovery_test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::discovery {
namespace {

using ::testing::HasSubstr;
using Scope = topodata::RoutingPolicy::Scope;

// A replica of app/-80 in cell, streaming and serving unless told otherwise.
TabletHealthPtr Replica(const std::string& cell, uint32_t uid, double lag_seconds,
                        bool serving = true) {
  auto h = std::make_shared<TabletHealth>();
  h->alias = {cell, uid};
  h->target = {"app", "-80", topodata::REPLICA};
  h->stream_up = true;
  h->serving = serving;
  h->replication_lag_seconds = lag_seconds;
  return h;
}

CellInfoMap Cells() {
  CellInfoMap cells;
  cells["zone1"].set_region("r1");
  cells["zone2"].set_region("r1");
  cells["zone3"].set_region("r2");
  return cells;
}

topodata::RoutingPolicy Policy(std::vector<std::tuple<Scope, int64_t, int32_t>> rules,
                               int64_t never_above) {
  topodata::RoutingPolicy p;
  for (const auto& r : rules) {
    auto* rule = p.add_rules();
    rule->set_scope(std::get<0>(r));
    rule->set_max_lag_seconds(std::get<1>(r));
    rule->set_min_serving_tablets(std::get<2>(r));
  }
  p.set_never_above_lag_seconds(never_above);
  return p;
}

std::vector<std::string> Aliases(const std::vector<TabletHealthPtr>& tablets) {
  std::vector<std::string> out;
  for (const TabletHealthPtr& t : tablets) out.push_back(t->alias.ToString());
  return out;
}

constexpr double kHours = 3600;

struct PolicyCase {
  std::string name;
  std::vector<TabletHealthPtr> tablets;
  topodata::RoutingPolicy policy;
  int rule;                        // expected rule index, -1 for the fallback
  std::vector<std::string> chosen;  // expected candidates
};

TEST(SelectCandidatesTest, FollowsTheRulesInOrder) {
  const topodata::RoutingPolicy def = topo::DefaultRoutingPolicy();
  const auto any_fresh = Policy({{topodata::RoutingPolicy::ANY_CELL, 10, 1}}, 3600);
  const auto unlimited = Policy({{topodata::RoutingPolicy::LOCAL_CELL, 1, 1}}, 0);
  const std::vector<PolicyCase> cases = {
      {"two fresh local tablets: local cell",
       {Replica("zone1", 1, 0), Replica("zone1", 2, 5), Replica("zone2", 3, 0)}, def, 0,
       {"zone1-1", "zone1-2"}},
      {"one fresh local: same region",
       {Replica("zone1", 1, 0), Replica("zone2", 3, 0), Replica("zone3", 4, 0)}, def, 1,
       {"zone1-1", "zone2-3"}},
      {"too few fresh in the region: local under 2h",
       {Replica("zone1", 1, 100), Replica("zone2", 3, 0)}, def, 2, {"zone1-1"}},
      {"not serving tablets are not counted",
       {Replica("zone1", 1, 0, /*serving=*/false), Replica("zone1", 2, 0)}, def, 2, {"zone1-2"}},
      {"only another region: fallback", {Replica("zone3", 4, 0)}, def, -1, {"zone3-4"}},
      {"fallback prefers the local cell",
       {Replica("zone1", 1, 1 * kHours), Replica("zone3", 4, 0)}, Policy({{topodata::RoutingPolicy::ANY_CELL, 10, 5}}, 7200), -1,
       {"zone1-1"}},
      {"never above 2h, even as a fallback",
       {Replica("zone1", 1, 3 * kHours), Replica("zone3", 4, 0)}, def, -1, {"zone3-4"}},
      {"everything lags too much", {Replica("zone1", 1, 3 * kHours)}, def, -1, {}},
      {"nothing known", {}, def, -1, {}},
      {"any cell under 10s",
       {Replica("zone1", 1, 20), Replica("zone3", 4, 0)}, any_fresh, 0, {"zone3-4"}},
      {"never_above 0 means no limit",
       {Replica("zone1", 1, 100 * kHours), Replica("zone3", 4, 0)}, unlimited, -1, {"zone1-1"}},
  };
  const CellInfoMap cells = Cells();
  for (const PolicyCase& c : cases) {
    SCOPED_TRACE(c.name);
    const RoutingView view{"zone1", &cells, &c.policy};
    Candidates got = SelectCandidates(c.tablets, view);
    EXPECT_EQ(got.rule, c.rule);
    EXPECT_EQ(Aliases(got.tablets), c.chosen);
  }
}

TEST(SelectCandidatesTest, CellWithoutRegionSharesItWithNoOne) {
  CellInfoMap cells = Cells();
  cells["zone1"].clear_region();
  cells["zone2"].clear_region();
  const topodata::RoutingPolicy policy =
      Policy({{topodata::RoutingPolicy::SAME_REGION, 30, 1}}, 7200);
  const RoutingView view{"zone1", &cells, &policy};
  Candidates got = SelectCandidates({Replica("zone1", 1, 0), Replica("zone2", 2, 0)}, view);
  EXPECT_EQ(got.rule, 0);
  EXPECT_THAT(Aliases(got.tablets), ::testing::ElementsAre("zone1-1"));
}

TEST(DescribeNoTabletTest, SaysWhatWasSeen) {
  const TargetKey target{"app", "-80", topodata::REPLICA};
  const topodata::RoutingPolicy def = topo::DefaultRoutingPolicy();
  EXPECT_EQ(DescribeNoTablet(target, {Replica("zone1", 1, 3 * kHours),
                                      Replica("zone1", 2, 0, /*serving=*/false)},
                             def),
            "no serving REPLICA tablet for app/-80: 2 known, 1 lagging 3h (over 2h), 1 not serving");
  EXPECT_EQ(DescribeNoTablet(target, {}, def), "no serving REPLICA tablet for app/-80: none known");
  TabletHealthPtr down = Replica("zone1", 1, 0);
  auto stream_down = std::make_shared<TabletHealth>(*down);
  stream_down->stream_up = false;
  EXPECT_EQ(DescribeNoTablet(target, {stream_down}, def),
            "no serving REPLICA tablet for app/-80: 1 known, 1 not serving");
}

class TabletPickerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HealthCheckOptions o;
    o.retry_initial = absl::Milliseconds(20);
    o.retry_max = absl::Milliseconds(200);
    hc_ = std::make_unique<HealthCheck>(o);
    hc_->Start();
    graph_ = std::make_unique<SrvKeyspaceWatcher>(&cluster_.ts);
    graph_->Start();
    picker_ = std::make_unique<TabletPicker>("zone1", hc_.get(), graph_.get());
  }
  void TearDown() override {
    graph_->Stop();
    hc_->Stop();
  }

  // A fake tablet serving (app, 0, type) in cell, registered with the HealthCheck.
  std::unique_ptr<FakeTablet> AddFake(const std::string& cell, uint32_t uid,
                                      topodata::TabletType type, double lag, int64_t term = 0) {
    auto fake = std::make_unique<FakeTablet>();
    fake->Set(FakeTablet::Healthy(cell, uid, type, term, lag));
    EXPECT_TRUE(hc_->AddTablet(MakeRecord(cell, uid, fake->port(), type)).ok());
    return fake;
  }

  TestCluster cluster_;
  std::unique_ptr<HealthCheck> hc_;
  std::unique_ptr<SrvKeyspaceWatcher> graph_;
  std::unique_ptr<TabletPicker> picker_;
};

TEST_F(TabletPickerTest, ErrorsNameTheTarget) {
  auto none = picker_->Pick("app", "0", topodata::REPLICA);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(none.status().message(), "no serving REPLICA tablet for app/0: none known");
  auto primary = picker_->Pick("app", "0", topodata::PRIMARY);
  EXPECT_EQ(primary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(primary.status().message(), HasSubstr("no serving PRIMARY tablet for app/0"));
  EXPECT_EQ(picker_->Pick("app", "0", topodata::SPARE).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TabletPickerTest, PicksAmongCandidatesAndReturnsTheCell) {
  auto a = AddFake("zone1", 1, topodata::REPLICA, 0);
  auto b = AddFake("zone1", 2, topodata::REPLICA, 0);
  auto primary = AddFake("zone2", 3, topodata::PRIMARY, 0, /*term=*/1);
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 2, kWait).ok());
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::PRIMARY, 1, kWait).ok());
  std::set<uint32_t> seen;
  for (int i = 0; i < 200 && seen.size() < 2; ++i) {
    auto p = picker_->Pick("app", "0", topodata::REPLICA);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->cell, "zone1");
    seen.insert(p->tablet->alias.uid);
  }
  EXPECT_EQ(seen, (std::set<uint32_t>{1, 2}));  // both are used
  auto p = picker_->Pick("app", "0", topodata::PRIMARY);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tablet->alias.uid, 3u);
  EXPECT_EQ(p->cell, "zone2");  // the primary, wherever it is
}

TEST_F(TabletPickerTest, RoutingPolicyChangesApplyWithoutRestart) {
  auto local = AddFake("zone1", 1, topodata::REPLICA, /*lag=*/100);
  auto remote = AddFake("zone3", 2, topodata::REPLICA, /*lag=*/0);
  ASSERT_TRUE(hc_->WaitForTablets("app", "0", topodata::REPLICA, 2, kWait).ok());
  // Default policy: nothing fresh locally or in region r1; local under 2h wins.
  for (int i = 0; i < 20; ++i) {
    auto p = picker_->Pick("app", "0", topodata::REPLICA);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->cell, "zone1");
  }
  // Operators prefer fresh tablets anywhere.
  ASSERT_TRUE(cluster_.ts
                  .SetRoutingPolicy(
                      Policy({{topodata::RoutingPolicy::ANY_CELL, 30, 1}}, 7200))
                  .ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto p = picker_->Pick("app", "0", topodata::REPLICA);
    return p.ok() && p->cell == "zone3";
  }));
  for (int i = 0; i < 20; ++i) {
    auto p = picker_->Pick("app", "0", topodata::REPLICA);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->tablet->alias.ToString(), "zone3-2");
  }
  // A limit every tablet is over.
  ASSERT_TRUE(cluster_.ts
                  .SetRoutingPolicy(
                      Policy({{topodata::RoutingPolicy::LOCAL_CELL, 30, 1}}, 50))
                  .ok());
  // Under the previous policy the lagging local tablet would still be used.
  remote->Stop();
  ASSERT_TRUE(WaitUntil([&] { return !picker_->Pick("app", "0", topodata::REPLICA).ok(); }));
  EXPECT_EQ(picker_->Pick("app", "0", topodata::REPLICA).status().message(),
            "no serving REPLICA tablet for app/0: 2 known, 1 lagging 1m40s (over 50s), "
            "1 not serving");
}

}  // namespace
}  // namespace shale::discovery
