// HealthCache: copy-on-write lists, keys moving with the target, and the
// sticky newest primary term.

#include "discovery/health_cache.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shale::discovery {
namespace {

TabletHealthPtr Snapshot(uint32_t uid, topodata::TabletType type, bool serving,
                         int64_t term = 0) {
  auto h = std::make_shared<TabletHealth>();
  h->alias = {"zone1", uid};
  h->target = {"app", "0", type};
  h->stream_up = true;
  h->serving = serving;
  h->primary_term = term;
  return h;
}

std::vector<uint32_t> Uids(const TabletList& list) {
  std::vector<uint32_t> out;
  for (const TabletHealthPtr& h : *list) out.push_back(h->alias.uid);
  return out;
}

const TargetKey kReplica{"app", "0", topodata::REPLICA};
const TargetKey kRdonly{"app", "0", topodata::RDONLY};

TEST(HealthCacheTest, ListsAreSortedAndReadersKeepTheirCopy) {
  HealthCache cache;
  EXPECT_TRUE(cache.Serving(kReplica)->empty());
  TabletHealthPtr two = Snapshot(2, topodata::REPLICA, true);
  TabletHealthPtr one = Snapshot(1, topodata::REPLICA, false);
  cache.Update(nullptr, two);
  cache.Update(nullptr, one);
  TabletList before = cache.Serving(kReplica);
  EXPECT_THAT(Uids(cache.All(kReplica)), ::testing::ElementsAre(1, 2));
  EXPECT_THAT(Uids(before), ::testing::ElementsAre(2));

  TabletHealthPtr one_serving = Snapshot(1, topodata::REPLICA, true);
  cache.Update(one, one_serving);
  EXPECT_THAT(Uids(cache.Serving(kReplica)), ::testing::ElementsAre(1, 2));
  EXPECT_THAT(Uids(before), ::testing::ElementsAre(2));  // unchanged under the reader
}

TEST(HealthCacheTest, TargetChangeMovesTheTabletAndRemovalDropsEmptyKeys) {
  HealthCache cache;
  TabletHealthPtr replica = Snapshot(1, topodata::REPLICA, true);
  cache.Update(nullptr, replica);
  TabletHealthPtr rdonly = Snapshot(1, topodata::RDONLY, true);
  cache.Update(replica, rdonly);
  EXPECT_TRUE(cache.All(kReplica)->empty());
  EXPECT_THAT(Uids(cache.Serving(kRdonly)), ::testing::ElementsAre(1));
  ASSERT_EQ(cache.Keys().size(), 1u);
  EXPECT_EQ(cache.Keys()[0], kRdonly);
  cache.Update(rdonly, nullptr);
  EXPECT_TRUE(cache.Keys().empty());
}

TEST(HealthCacheTest, PrimaryIsTheServingHolderOfTheNewestTerm) {
  HealthCache cache;
  TabletHealthPtr old_primary = Snapshot(1, topodata::PRIMARY, true, 3);
  cache.Update(nullptr, old_primary);
  ASSERT_NE(cache.Primary("app", "0"), nullptr);
  EXPECT_EQ(cache.Primary("app", "0")->alias.uid, 1u);

  TabletHealthPtr new_primary = Snapshot(2, topodata::PRIMARY, true, 4);
  cache.Update(nullptr, new_primary);
  EXPECT_EQ(cache.Primary("app", "0")->alias.uid, 2u);

  // The new one stops serving, then is removed: the old one never comes back.
  TabletHealthPtr down = Snapshot(2, topodata::PRIMARY, false, 4);
  cache.Update(new_primary, down);
  EXPECT_EQ(cache.Primary("app", "0"), nullptr);
  cache.Update(down, nullptr);
  EXPECT_EQ(cache.Primary("app", "0"), nullptr);
  HealthCache::PrimaryInfo info = cache.GetPrimaryInfo("app", "0");
  EXPECT_EQ(info.newest_term, 4);
  EXPECT_EQ(info.claimer.uid, 2u);

  // A replica's term claims nothing; a newer PRIMARY does.
  cache.Update(nullptr, Snapshot(3, topodata::REPLICA, true, 9));
  EXPECT_EQ(cache.GetPrimaryInfo("app", "0").newest_term, 4);
  TabletHealthPtr promoted = Snapshot(1, topodata::PRIMARY, true, 5);
  cache.Update(old_primary, promoted);
  EXPECT_EQ(cache.Primary("app", "0")->alias.uid, 1u);
}

}  // namespace
}  // namespace shale::discovery
