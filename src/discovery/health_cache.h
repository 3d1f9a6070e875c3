#pragma once

// HealthCache: the tablets of every (keyspace, shard, tablet type), the index
// the gateway reads on every query (DESIGN §5, "Health").
//
// Each key holds two immutable lists, all tablets and serving tablets, shared
// as std::shared_ptr<const std::vector<TabletHealthPtr>>. A write builds new
// lists for the keys it touches and swaps them in under the mutex (copy on
// write), so a reader takes the mutex only to copy one shared_ptr and then
// iterates without any lock, however long it keeps the list.
//
// It also tracks each shard's primary: the newest primary term any tablet of
// the shard ever claimed with type PRIMARY, and the serving tablet that holds
// it. A deposed primary that still claims PRIMARY with an older term is
// therefore never the shard's primary, even after the newer one goes away.
//
// Lifecycle and ownership: owned by the HealthCheck, which is its only writer
// (Update); readers are any threads. Thread-safe.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "discovery/tablet_health.h"

namespace shale::discovery {

using TabletList = std::shared_ptr<const std::vector<TabletHealthPtr>>;

class HealthCache {
 public:
  HealthCache();

  // The serving tablets of key (IsServing()), sorted by alias. Never null.
  TabletList Serving(const TargetKey& key) const;
  // Every known tablet of key, serving or not, sorted by alias. Never null.
  TabletList All(const TargetKey& key) const;
  // The serving PRIMARY of the shard holding the newest term claimed for it,
  // or null.
  TabletHealthPtr Primary(absl::string_view keyspace, absl::string_view shard) const;

  // What the cache knows about a shard's primary, for error messages.
  struct PrimaryInfo {
    int64_t newest_term = 0;    // newest term claimed by a PRIMARY of the shard
    topo::TabletAlias claimer;  // the tablet that claimed it
    TabletHealthPtr primary;    // the serving tablet holding it, or null
  };
  PrimaryInfo GetPrimaryInfo(absl::string_view keyspace, absl::string_view shard) const;

  // Every key with at least one tablet.
  std::vector<TargetKey> Keys() const;

  // Replaces old (null for a new tablet) by now (null for a removed tablet).
  // Both name the same alias. Called by the HealthCheck, one update at a time.
  void Update(const TabletHealthPtr& old, const TabletHealthPtr& now);

 private:
  struct KeyLists {
    TabletList all;
    TabletList serving;
  };
  struct ShardPrimary {
    int64_t newest_term = 0;
    topo::TabletAlias claimer;
    TabletHealthPtr primary;
  };
  using ShardKey = std::pair<std::string, std::string>;

  // The lists of key with alias removed and, if now is set, now inserted.
  KeyLists Rebuilt(const TargetKey& key, const topo::TabletAlias& alias,
                   const TabletHealthPtr& now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void UpdatePrimary(const TabletHealthPtr& now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TabletList empty_;
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  std::map<TargetKey, KeyLists> keys_ ABSL_GUARDED_BY(mu_);
  std::map<ShardKey, ShardPrimary> primaries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::discovery
