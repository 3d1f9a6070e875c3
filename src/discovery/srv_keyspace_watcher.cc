#include "discovery/srv_keyspace_watcher.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"
#include "topo/paths.h"

namespace shale::discovery {

SrvKeyspaceWatcher::SrvKeyspaceWatcher(topo::Server* ts, SrvKeyspaceWatcherOptions options)
    : ts_(ts),
      options_(options),
      global_backoff_(options.retry_initial, options.retry_max),
      policy_(std::make_shared<const topodata::RoutingPolicy>(topo::DefaultRoutingPolicy())),
      cells_(std::make_shared<const CellInfoMap>()) {}

SrvKeyspaceWatcher::~SrvKeyspaceWatcher() { Stop(); }

void SrvKeyspaceWatcher::Start() {
  {
    absl::MutexLock l(&mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  const absl::Time retry_at = StartDueWatches();
  thread_ = std::thread([this, retry_at] { Loop(retry_at); });
}

void SrvKeyspaceWatcher::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Destroyed outside the locks: a watch's last callback may be waiting for
  // one of them (and, once stopping_ is set, starts no new watch).
  std::vector<std::unique_ptr<RecordWatch>> watches;
  {
    absl::MutexLock starts(&start_mu_);
    absl::MutexLock l(&mu_);
    watches.push_back(std::move(policy_watch_));
    watches.push_back(std::move(cells_watch_));
    for (auto& entry : srv_) watches.push_back(std::move(entry.second.watch));
  }
  watches.clear();
}

void SrvKeyspaceWatcher::Loop(absl::Time next) {
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || retry_needed_;
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next);
      if (stopping_) return;
    }
    next = StartDueWatches();
  }
}

absl::Time SrvKeyspaceWatcher::StartDueWatches() {
  std::vector<ServingChange> changes;
  absl::Time next = absl::InfiniteFuture();
  {
    absl::MutexLock starts(&start_mu_);
    next = StartDueWatchesLocked(&changes);
  }
  for (ServingChange& change : changes) Changed(std::move(change));
  return next;
}

absl::Time SrvKeyspaceWatcher::StartDueWatchesLocked(std::vector<ServingChange>* changes) {
  const absl::Time now = absl::Now();
  bool global_due = false;
  std::vector<CellKeyspace> due;
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return absl::InfiniteFuture();
    retry_needed_ = false;
    global_due = (policy_watch_ == nullptr || cells_watch_ == nullptr) && global_retry_at_ <= now;
    for (const auto& entry : srv_) {
      if (entry.second.watch == nullptr && entry.second.retry_at <= now) due.push_back(entry.first);
    }
  }
  if (global_due) {
    absl::Status s = StartPolicyWatch(changes);
    if (s.ok()) s = StartCellsWatch(changes);
    absl::MutexLock l(&mu_);
    if (s.ok()) {
      global_backoff_.Reset();
    } else {
      global_retry_at_ = now + global_backoff_.Next();
      spdlog::warn("discovery: cannot watch the routing policy and cells ({}); retrying",
                   s.ToString());
    }
  }
  for (const CellKeyspace& key : due) StartSrvWatch(key, changes);
  absl::MutexLock l(&mu_);
  absl::Time next = absl::InfiniteFuture();
  if (policy_watch_ == nullptr || cells_watch_ == nullptr) next = global_retry_at_;
  for (const auto& entry : srv_) {
    if (entry.second.watch == nullptr) next = std::min(next, entry.second.retry_at);
  }
  return next;
}

absl::Status SrvKeyspaceWatcher::StartPolicyWatch(std::vector<ServingChange>* changes) {
  {
    absl::MutexLock l(&mu_);
    if (policy_watch_ != nullptr) return absl::OkStatus();
  }
  auto on_change = [this](const std::string&) {
    {
      absl::MutexLock l(&mu_);
      LoadPolicy();
    }
    Changed({ServingChange::Kind::kRoutingPolicy, "", ""});
  };
  // Until a policy is stored, /global is watched to see it created.
  absl::StatusOr<std::unique_ptr<RecordWatch>> w = RecordWatch::Start(
      ts_->global(), {topo::paths::RoutingPolicy(), std::string(topo::paths::kGlobal)}, on_change);
  if (!w.ok()) return w.status();
  {
    absl::MutexLock l(&mu_);
    policy_watch_ = *std::move(w);
    LoadPolicy();
  }
  changes->push_back({ServingChange::Kind::kRoutingPolicy, "", ""});
  return absl::OkStatus();
}

absl::Status SrvKeyspaceWatcher::StartCellsWatch(std::vector<ServingChange>* changes) {
  {
    absl::MutexLock l(&mu_);
    if (cells_watch_ != nullptr) return absl::OkStatus();
  }
  auto on_change = [this](const std::string& path) {
    {
      absl::MutexLock l(&mu_);
      LoadCells();
    }
    absl::string_view cell = path;
    absl::ConsumePrefix(&cell, absl::StrCat(topo::paths::CellsDir(), "/"));
    absl::ConsumeSuffix(&cell, "/CellInfo");
    Changed({ServingChange::Kind::kCellInfo, std::string(cell), ""});
  };
  absl::StatusOr<std::unique_ptr<RecordWatch>> w =
      RecordWatch::Start(ts_->global(), {"", topo::paths::CellsDir()}, on_change);
  if (!w.ok()) return w.status();
  {
    absl::MutexLock l(&mu_);
    cells_watch_ = *std::move(w);
    LoadCells();
  }
  changes->push_back({ServingChange::Kind::kCellInfo, "", ""});
  return absl::OkStatus();
}

void SrvKeyspaceWatcher::LoadPolicy() {
  if (policy_watch_ == nullptr) return;  // a callback before Start stored the watch
  std::optional<std::string> value = policy_watch_->value();
  topodata::RoutingPolicy policy;
  if (!value.has_value()) {
    policy = topo::DefaultRoutingPolicy();
  } else if (!policy.ParseFromString(*value) || policy.rules().empty()) {
    spdlog::warn("discovery: the stored routing policy is unusable; keeping the previous one");
    return;
  }
  policy_ = std::make_shared<const topodata::RoutingPolicy>(std::move(policy));
}

void SrvKeyspaceWatcher::LoadCells() {
  if (cells_watch_ == nullptr) return;
  auto cells = std::make_shared<CellInfoMap>();
  const std::string prefix = absl::StrCat(topo::paths::CellsDir(), "/");
  for (const auto& entry : cells_watch_->values()) {
    absl::string_view cell = entry.first;
    if (!absl::ConsumePrefix(&cell, prefix) || !absl::ConsumeSuffix(&cell, "/CellInfo") ||
        absl::StrContains(cell, '/')) {
      continue;
    }
    topodata::CellInfo info;
    if (info.ParseFromString(entry.second)) (*cells)[std::string(cell)] = std::move(info);
  }
  cells_ = std::move(cells);
}

void SrvKeyspaceWatcher::LoadSrv(SrvEntry& entry, const CellKeyspace& key) {
  if (entry.watch == nullptr) return;
  std::optional<std::string> value = entry.watch->value();
  if (!value.has_value()) {
    entry.value = absl::NotFoundError(
        absl::StrCat("no SrvKeyspace for keyspace ", key.second, " in cell ", key.first));
    return;
  }
  auto srv = std::make_shared<topodata::SrvKeyspace>();
  if (!srv->ParseFromString(*value)) {
    entry.value = absl::DataLossError(absl::StrCat("the SrvKeyspace of keyspace ", key.second,
                                                   " in cell ", key.first, " does not parse"));
    return;
  }
  entry.value = std::shared_ptr<const topodata::SrvKeyspace>(std::move(srv));
}

void SrvKeyspaceWatcher::StartSrvWatch(const CellKeyspace& key,
                                       std::vector<ServingChange>* changes) {
  auto on_change = [this, key](const std::string&) {
    {
      absl::MutexLock l(&mu_);
      auto it = srv_.find(key);
      if (it != srv_.end()) LoadSrv(it->second, key);
    }
    Changed({ServingChange::Kind::kSrvKeyspace, key.first, key.second});
  };
  absl::StatusOr<std::unique_ptr<RecordWatch>> w;
  absl::StatusOr<topo::CellConn> cc = ts_->ForCell(key.first);
  if (cc.ok()) {
    w = RecordWatch::Start(*cc->conn,
                           {topo::paths::SrvKeyspace(cc->root, key.second),
                            topo::paths::CellKeyspaceDir(cc->root, key.second)},
                           on_change);
  } else {
    w = cc.status();
  }
  {
    absl::MutexLock l(&mu_);
    SrvEntry& e =
        srv_.try_emplace(key, options_.retry_initial, options_.retry_max).first->second;
    if (w.ok()) {
      e.watch = *std::move(w);
      LoadSrv(e, key);
      e.backoff.Reset();
    } else {
      e.value = absl::Status(w.status().code(),
                             absl::StrCat("SrvKeyspace of keyspace ", key.second, " in cell ",
                                          key.first, ": ", w.status().message()));
      e.retry_at = absl::Now() + e.backoff.Next();
      retry_needed_ = true;
      return;
    }
  }
  changes->push_back({ServingChange::Kind::kSrvKeyspace, key.first, key.second});
}

absl::StatusOr<std::shared_ptr<const topodata::SrvKeyspace>> SrvKeyspaceWatcher::GetSrvKeyspace(
    absl::string_view cell, absl::string_view keyspace) {
  const CellKeyspace key{std::string(cell), std::string(keyspace)};
  {
    absl::ReaderMutexLock l(&mu_);
    auto it = srv_.find(key);
    if (it != srv_.end()) return it->second.value;
  }
  absl::MutexLock starts(&start_mu_);
  {
    absl::ReaderMutexLock l(&mu_);
    if (stopping_) return absl::UnavailableError("the serving graph watcher is stopped");
    auto it = srv_.find(key);
    if (it != srv_.end()) return it->second.value;  // started meanwhile
  }
  std::vector<ServingChange> first_load;  // the caller gets the value: nothing to announce
  StartSrvWatch(key, &first_load);
  absl::ReaderMutexLock l(&mu_);
  return srv_.at(key).value;
}

std::shared_ptr<const topodata::RoutingPolicy> SrvKeyspaceWatcher::GetRoutingPolicy() const {
  absl::ReaderMutexLock l(&mu_);
  return policy_;
}

std::shared_ptr<const CellInfoMap> SrvKeyspaceWatcher::GetCells() const {
  absl::ReaderMutexLock l(&mu_);
  return cells_;
}

std::string SrvKeyspaceWatcher::RegionOf(absl::string_view cell) const {
  std::shared_ptr<const CellInfoMap> cells = GetCells();
  auto it = cells->find(std::string(cell));
  return it == cells->end() ? "" : it->second.region();
}

int SrvKeyspaceWatcher::Subscribe(std::function<void(const ServingChange&)> cb) {
  return subscribers_.Add(std::move(cb));
}

void SrvKeyspaceWatcher::Unsubscribe(int id) { subscribers_.Remove(id); }

void SrvKeyspaceWatcher::Changed(ServingChange change) { subscribers_.Notify(change); }

}  // namespace shale::discovery
