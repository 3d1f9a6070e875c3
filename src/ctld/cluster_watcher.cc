#include "ctld/cluster_watcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"
#include "topo/paths.h"
#include "topo/tablet_alias.h"

namespace shale::ctld {
namespace {

std::string AliasName(const topodata::TabletAlias& a) {
  return a.cell().empty() ? "" : topo::TabletAlias::FromProto(a).ToString();
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(t));
}

TabletView ToView(const discovery::TabletHealth& h) {
  TabletView t;
  t.alias = h.alias.ToString();
  t.keyspace = h.tablet.keyspace();
  t.shard = h.tablet.shard();
  t.type = discovery::TabletTypeName(h.target.type);
  t.address = h.address;
  t.stream_up = h.stream_up;
  t.serving = h.serving;
  t.health_error = h.health_error;
  t.last_error = h.last_error;
  t.lag_seconds = h.replication_lag_seconds;
  t.log_position = h.log_position;
  t.primary_term = h.primary_term;
  t.last_message = h.last_message;
  return t;
}

}  // namespace

ClusterWatcher::ClusterWatcher(topo::Server* ts, ClusterWatcherOptions options)
    : ts_(ts), options_(std::move(options)), health_(options_.health) {}

ClusterWatcher::~ClusterWatcher() { Stop(); }

void ClusterWatcher::Start() {
  {
    absl::MutexLock l(&mu_);
    if (started_) return;
    started_ = true;
  }
  health_.Start();
  thread_ = std::thread([this] { Loop(); });
}

void ClusterWatcher::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  watch_.reset();  // its callback takes mu_: never destroyed under it
  for (auto& [cell, watcher] : cell_watchers_) watcher->Stop();
  cell_watchers_.clear();
  health_.Stop();
}

void ClusterWatcher::Loop() {
  for (;;) {
    if (watch_ == nullptr) {
      absl::Status s = StartWatch();
      if (!s.ok()) {
        absl::MutexLock l(&mu_);
        if (topology_error_ != s.message()) spdlog::warn("ctld dashboard: {}", s.ToString());
        topology_error_ = std::string(s.message());
      }
    }
    std::vector<std::string> new_cells;
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
      for (const std::string& c : cells_) {
        if (!cell_watchers_.contains(c)) new_cells.push_back(c);
      }
    }
    for (const std::string& cell : new_cells) {
      auto w = std::make_unique<discovery::TopologyWatcher>(ts_, cell, &health_,
                                                            options_.topology);
      w->Start();
      cell_watchers_[cell] = std::move(w);
    }
    absl::MutexLock l(&mu_);
    cells_watched_ = cell_watchers_.size();
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || cells_.size() != cells_watched_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&wake),
                         watch_ == nullptr ? options_.retry_pause : absl::InfiniteDuration());
  }
}

absl::Status ClusterWatcher::StartWatch() {
  absl::StatusOr<topo::DirWatchStart> start = ts_->global().WatchDir(
      topo::paths::kGlobal, [this](const topo::WatchEvent& e) { OnEvent(e); });
  if (!start.ok()) return start.status();
  absl::MutexLock l(&mu_);
  for (const topo::PathValue& pv : start->current) {
    // An event that came meanwhile is newer than the first answer.
    if (!early_paths_.contains(pv.path)) Apply(pv.path, &pv.value, false);
  }
  early_paths_.clear();
  synced_ = true;
  topology_error_.clear();
  watch_ = std::move(start->handle);
  return absl::OkStatus();
}

void ClusterWatcher::OnEvent(const topo::WatchEvent& e) {
  absl::MutexLock l(&mu_);
  if (!synced_) early_paths_.insert(e.path);
  switch (e.kind) {
    case topo::WatchEvent::Kind::kChanged:
      Apply(e.path, &e.value, synced_);
      topology_error_.clear();
      break;
    case topo::WatchEvent::Kind::kDeleted:
      Apply(e.path, nullptr, synced_);
      break;
    case topo::WatchEvent::Kind::kError:
      topology_error_ = std::string(e.error.message());
      break;
  }
}

void ClusterWatcher::Apply(const std::string& path, const std::string* value,
                           bool record_changes) {
  const std::vector<std::string> p = absl::StrSplit(path, '/', absl::SkipEmpty());
  if (path == topo::paths::CtldLeader()) {
    topodata::CtldLeader rec;
    if (value != nullptr && rec.ParseFromString(*value)) {
      leader_ = std::move(rec);
    } else {
      leader_.reset();
    }
  } else if (p.size() == 4 && p[1] == "keyspaces" && p[3] == "Keyspace") {
    topodata::Keyspace rec;
    if (value != nullptr && rec.ParseFromString(*value)) {
      keyspaces_[p[2]] = std::move(rec);
    } else {
      keyspaces_.erase(p[2]);
    }
  } else if (p.size() == 6 && p[1] == "keyspaces" && p[3] == "shards" && p[5] == "Shard") {
    const std::pair<std::string, std::string> key(p[2], p[4]);
    topodata::Shard rec;
    if (value == nullptr || !rec.ParseFromString(*value)) {
      shards_.erase(key);
      return;
    }
    auto it = shards_.find(key);
    const std::string old_primary = it == shards_.end() ? "" : AliasName(it->second.primary_alias());
    const int64_t old_term = it == shards_.end() ? 0 : it->second.primary_term();
    const std::string new_primary = AliasName(rec.primary_alias());
    if (record_changes && !new_primary.empty() &&
        (new_primary != old_primary || rec.primary_term() != old_term)) {
      changes_.push_front(PrimaryChange{absl::Now(), key.first, key.second, old_primary, old_term,
                                        new_primary, rec.primary_term()});
      while (changes_.size() > options_.change_limit) changes_.pop_back();
    }
    shards_[key] = std::move(rec);
  } else if (p.size() == 4 && p[1] == "cells" && p[3] == "CellInfo" && value != nullptr) {
    cells_.insert(p[2]);  // a deleted cell keeps its watcher: its tablets go with their records
  }
}

ClusterView ClusterWatcher::View() const {
  ClusterView v;
  v.now = absl::Now();
  {
    absl::MutexLock l(&mu_);
    for (const auto& [name, ks] : keyspaces_) {
      v.keyspaces.push_back(KeyspaceView{name, ks.sharding_column_name(),
                                         topodata::DurabilityPolicy_Name(ks.durability_policy())});
    }
    for (const auto& [key, s] : shards_) {
      ShardView sv;
      sv.keyspace = key.first;
      sv.name = key.second;
      sv.range_start = s.key_range().start();
      sv.primary = AliasName(s.primary_alias());
      sv.term = s.primary_term();
      if (s.has_primary_term_start_time()) sv.term_start = FromProto(s.primary_term_start_time());
      v.shards.push_back(std::move(sv));
    }
    v.primary_changes.assign(changes_.begin(), changes_.end());
    v.leader = leader_;
    v.topology_error = topology_error_;
  }
  for (const discovery::TabletHealthPtr& h : health_.GetAll()) v.tablets.push_back(ToView(*h));
  return v;
}

absl::Status ClusterWatcher::WaitForFirstSync(absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&synced_), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("the cluster watch did not sync within ", absl::FormatDuration(timeout),
                     ": ", topology_error_));
  }
  return absl::OkStatus();
}

}  // namespace shale::ctld
