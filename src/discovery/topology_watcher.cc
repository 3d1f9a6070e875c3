#include "discovery/topology_watcher.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/message_differencer.h"
#include "spdlog/spdlog.h"
#include "topo/paths.h"

namespace shale::discovery {
namespace {

// The alias in ".../tablets/<alias>/Tablet", or "" for any other path.
std::string AliasOfPath(absl::string_view path) {
  if (!absl::ConsumeSuffix(&path, "/Tablet")) return "";
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return "";
  absl::string_view dir = path.substr(0, slash);
  if (!absl::EndsWith(dir, "/tablets")) return "";
  return std::string(path.substr(slash + 1));
}

}  // namespace

TopologyWatcher::TopologyWatcher(topo::Server* ts, std::string cell, HealthCheck* health_check,
                                 TopologyWatcherOptions options)
    : ts_(ts),
      cell_(std::move(cell)),
      health_check_(health_check),
      options_(std::move(options)),
      keyspaces_(options_.keyspaces.begin(), options_.keyspaces.end()),
      backoff_(options_.retry_initial, options_.retry_max) {}

TopologyWatcher::~TopologyWatcher() { Stop(); }

void TopologyWatcher::Start() {
  absl::MutexLock l(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void TopologyWatcher::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void TopologyWatcher::Refresh() {
  absl::MutexLock l(&mu_);
  resync_at_ = absl::InfinitePast();
}

absl::Status TopologyWatcher::WaitForFirstSync(absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return synced_ || stopping_; };
  if (mu_.AwaitWithTimeout(absl::Condition(&done), timeout) && synced_) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat("no full read of cell ", cell_,
                                                  "'s tablets within ",
                                                  absl::FormatDuration(timeout)));
}

TopologyWatcherStats TopologyWatcher::Stats() const {
  absl::MutexLock l(&mu_);
  TopologyWatcherStats s = stats_;
  s.in_outage = outage_;
  return s;
}

void TopologyWatcher::Loop() {
  for (;;) {
    std::deque<QueuedEvent> events;
    bool resync = false;
    {
      absl::MutexLock l(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty() || absl::Now() >= resync_at_;
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), resync_at_);
      if (stopping_) break;
      resync = absl::Now() >= resync_at_;
      events.swap(queue_);
    }
    if (resync) {
      Resync();  // its answer supersedes the queued events of the old watch
      continue;
    }
    for (const QueuedEvent& e : events) {
      if (e.first == current_generation_) HandleEvent(e.second);
    }
  }
  handle_.reset();  // no callback after this
}

void TopologyWatcher::Resync() {
  uint64_t generation = 0;
  {
    absl::MutexLock l(&mu_);
    generation = next_generation_++;
  }
  auto on_event = [this, generation](const topo::WatchEvent& event) {
    absl::MutexLock l(&mu_);
    queue_.emplace_back(generation, event);
  };
  absl::StatusOr<topo::DirWatchStart> start;
  absl::StatusOr<topo::CellConn> cc = ts_->ForCell(cell_);
  if (cc.ok()) {
    start = cc->conn->WatchDir(topo::paths::TabletsDir(cc->root), on_event);
  } else {
    start = cc.status();
  }
  if (!start.ok()) {
    const absl::Duration retry = backoff_.Next();
    spdlog::warn("discovery: cannot read cell {}'s tablets ({}); keeping the {} known, retry in {}",
                 cell_, start.status().ToString(), known_.size(), absl::FormatDuration(retry));
    absl::MutexLock l(&mu_);
    ++stats_.errors;
    outage_ = true;
    resync_at_ = absl::Now() + retry;
    return;
  }
  std::unique_ptr<topo::WatchHandle> old = std::move(handle_);
  handle_ = std::move(start->handle);
  current_generation_ = generation;
  old.reset();  // outside mu_: its last callback may be waiting for mu_
  Reconcile(start->current);
  backoff_.Reset();
  absl::MutexLock l(&mu_);
  ++stats_.resyncs;
  stats_.tablets = static_cast<int64_t>(known_.size());
  outage_ = false;
  synced_ = true;
  resync_at_ = absl::Now() + options_.safety_refresh;
}

void TopologyWatcher::Reconcile(const std::vector<topo::PathValue>& current) {
  std::map<std::string, const std::string*> now;
  for (const topo::PathValue& pv : current) now[pv.path] = &pv.value;
  std::vector<std::string> gone;
  for (const auto& entry : known_) {
    if (now.find(entry.first) == now.end()) gone.push_back(entry.first);
  }
  for (const std::string& path : gone) Forget(path);
  for (const auto& entry : now) ApplyValue(entry.first, *entry.second);
}

void TopologyWatcher::HandleEvent(const topo::WatchEvent& event) {
  {
    absl::MutexLock l(&mu_);
    ++stats_.events;
    if (event.kind == topo::WatchEvent::Kind::kError) {
      ++stats_.errors;
      if (!outage_) {
        spdlog::warn("discovery: topology of cell {} is down ({}); keeping the {} known tablets",
                     cell_, event.error.ToString(), known_.size());
      }
      outage_ = true;
      return;
    }
    if (outage_) {
      // The watch is back and replays the state: reconcile with a full read.
      outage_ = false;
      resync_at_ = absl::InfinitePast();
    }
  }
  if (event.kind == topo::WatchEvent::Kind::kDeleted) {
    Forget(event.path);
  } else {
    ApplyValue(event.path, event.value);
  }
  absl::MutexLock l(&mu_);
  stats_.tablets = static_cast<int64_t>(known_.size());
}

void TopologyWatcher::ApplyValue(const std::string& path, const std::string& value) {
  const std::string alias_text = AliasOfPath(path);
  if (alias_text.empty()) return;  // not a tablet record
  topodata::Tablet record;
  if (!record.ParseFromString(value)) {
    spdlog::warn("discovery: tablet record at {} does not parse; ignoring it", path);
    Forget(path);
    return;
  }
  const std::string record_alias = topo::TabletAlias::FromProto(record.alias()).ToString();
  if (record_alias != alias_text) {
    spdlog::warn("discovery: tablet record at {} names alias {}; ignoring it", path, record_alias);
    Forget(path);
    return;
  }
  if (!IsCompleteRecord(record) ||
      (!keyspaces_.empty() && keyspaces_.count(record.keyspace()) == 0)) {
    Forget(path);
    return;
  }
  auto it = known_.find(path);
  if (it != known_.end() &&
      google::protobuf::util::MessageDifferencer::Equals(it->second, record)) {
    return;
  }
  absl::Status s = health_check_->ReplaceTablet(record);
  if (!s.ok()) {
    spdlog::warn("discovery: tablet {}: {}", record_alias, s.ToString());
    return;
  }
  known_[path] = std::move(record);
}

void TopologyWatcher::Forget(const std::string& path) {
  auto it = known_.find(path);
  if (it == known_.end()) return;
  health_check_->RemoveTablet(topo::TabletAlias::FromProto(it->second.alias()));
  known_.erase(it);
}

}  // namespace shale::discovery
