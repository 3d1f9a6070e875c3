#include "discovery/health_cache.h"

#include <algorithm>

namespace shale::discovery {

HealthCache::HealthCache() : empty_(std::make_shared<const std::vector<TabletHealthPtr>>()) {}

TabletList HealthCache::Serving(const TargetKey& key) const {
  absl::ReaderMutexLock l(&mu_);
  auto it = keys_.find(key);
  return it == keys_.end() ? empty_ : it->second.serving;
}

TabletList HealthCache::All(const TargetKey& key) const {
  absl::ReaderMutexLock l(&mu_);
  auto it = keys_.find(key);
  return it == keys_.end() ? empty_ : it->second.all;
}

TabletHealthPtr HealthCache::Primary(absl::string_view keyspace, absl::string_view shard) const {
  return GetPrimaryInfo(keyspace, shard).primary;
}

HealthCache::PrimaryInfo HealthCache::GetPrimaryInfo(absl::string_view keyspace,
                                                     absl::string_view shard) const {
  absl::ReaderMutexLock l(&mu_);
  auto it = primaries_.find(ShardKey(std::string(keyspace), std::string(shard)));
  if (it == primaries_.end()) return {};
  return {it->second.newest_term, it->second.claimer, it->second.primary};
}

std::vector<TargetKey> HealthCache::Keys() const {
  absl::ReaderMutexLock l(&mu_);
  std::vector<TargetKey> keys;
  keys.reserve(keys_.size());
  for (const auto& entry : keys_) keys.push_back(entry.first);
  return keys;
}

HealthCache::KeyLists HealthCache::Rebuilt(const TargetKey& key, const topo::TabletAlias& alias,
                                           const TabletHealthPtr& now) const {
  auto all = std::make_shared<std::vector<TabletHealthPtr>>();
  auto it = keys_.find(key);
  if (it != keys_.end()) {
    all->reserve(it->second.all->size() + 1);
    for (const TabletHealthPtr& h : *it->second.all) {
      if (h->alias != alias) all->push_back(h);
    }
  }
  if (now != nullptr) {
    auto pos = std::lower_bound(
        all->begin(), all->end(), now,
        [](const TabletHealthPtr& a, const TabletHealthPtr& b) { return a->alias < b->alias; });
    all->insert(pos, now);
  }
  auto serving = std::make_shared<std::vector<TabletHealthPtr>>();
  for (const TabletHealthPtr& h : *all) {
    if (h->IsServing()) serving->push_back(h);
  }
  return {std::move(all), std::move(serving)};
}

void HealthCache::Update(const TabletHealthPtr& old, const TabletHealthPtr& now) {
  if (old == nullptr && now == nullptr) return;
  const topo::TabletAlias& alias = now != nullptr ? now->alias : old->alias;
  absl::MutexLock l(&mu_);
  if (old != nullptr && (now == nullptr || old->target != now->target)) {
    KeyLists lists = Rebuilt(old->target, alias, nullptr);
    if (lists.all->empty()) {
      keys_.erase(old->target);
    } else {
      keys_[old->target] = std::move(lists);
    }
  }
  if (now != nullptr) keys_[now->target] = Rebuilt(now->target, alias, now);
  if (old != nullptr) UpdatePrimary(old);
  if (now != nullptr) UpdatePrimary(now);
}

// Recomputes the primary of h's shard: the newest claimed term is sticky
// (terms only grow), and the primary is the serving PRIMARY holding it.
void HealthCache::UpdatePrimary(const TabletHealthPtr& h) {
  const TargetKey key{h->target.keyspace, h->target.shard, topodata::PRIMARY};
  ShardKey shard_key(key.keyspace, key.shard);
  auto keys_it = keys_.find(key);
  auto it = primaries_.find(shard_key);
  if (keys_it == keys_.end() && it == primaries_.end()) return;
  ShardPrimary& p = primaries_[shard_key];
  p.primary = nullptr;
  if (keys_it == keys_.end()) return;
  for (const TabletHealthPtr& t : *keys_it->second.all) {
    if (t->primary_term > p.newest_term) {
      p.newest_term = t->primary_term;
      p.claimer = t->alias;
    }
  }
  for (const TabletHealthPtr& t : *keys_it->second.serving) {
    if (t->primary_term != p.newest_term) continue;
    if (p.primary == nullptr || t->primary_term_start_time > p.primary->primary_term_start_time) {
      p.primary = t;
    }
  }
}

}  // namespace shale::discovery
