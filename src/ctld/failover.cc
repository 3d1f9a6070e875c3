#include "ctld/failover.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ctl/reparent.h"
#include "spdlog/spdlog.h"
#include "topo/paths.h"

namespace shale::ctld {

namespace {

PrimaryMonitorOptions MonitorOptions(const FailoverOptions& o) {
  PrimaryMonitorOptions m;
  m.ping_interval = std::clamp(o.failover_after / 5, absl::Milliseconds(50), absl::Seconds(1));
  m.ping_timeout = std::clamp(o.failover_after / 3, absl::Milliseconds(100), absl::Seconds(5));
  m.dial = o.dial;
  return m;
}

std::string AliasName(const topodata::TabletAlias& a) {
  return a.cell().empty() ? "" : topo::TabletAlias::FromProto(a).ToString();
}

}  // namespace

FailoverController::FailoverController(topo::Server* ts, FailoverOptions options)
    : ts_(ts),
      options_(std::move(options)),
      monitor_options_(MonitorOptions(options_)),
      history_(options_.history_limit) {
  if (options_.metrics != nullptr) {
    failovers_ = options_.metrics->AddCounterFamily(
        "shale_ctld_failovers_total",
        "Automatic failover attempts by outcome: succeeded, skipped (the primary changed "
        "meanwhile or answers again), failed.",
        {"outcome"});
    for (const char* o : {"succeeded", "skipped", "failed"}) failovers_->WithLabels({o});
    failover_seconds_ = options_.metrics->AddHistogram(
        "shale_ctld_failover_seconds",
        "Time from a primary going down to its replacement being promoted.",
        metrics::ExponentialBuckets(0.25, 2, 8));
  }
}

FailoverController::~FailoverController() { Stop(); }

absl::Status FailoverController::Start() {
  {
    absl::MutexLock l(&mu_);
    if (started_) return absl::FailedPreconditionError("the failover controller is running");
    started_ = true;
    stopping_ = false;
    next_discovery_ = absl::InfinitePast();
    discovery_error_.clear();
  }
  if (options_.metrics != nullptr) {
    absl::Status s = options_.metrics->AddCallbackGauge(
        "shale_ctld_shards", "Shards whose primary ctld watches.", [this] {
          absl::MutexLock l(&mu_);
          return static_cast<double>(shards_.size());
        });
    if (s.ok()) {
      s = options_.metrics->AddCallbackGauge(
          "shale_ctld_primaries_down", "Primaries that do not answer right now.", [this] {
            absl::MutexLock l(&mu_);
            int down = 0;
            for (const auto& [key, shard] : shards_) {
              if (shard->monitor != nullptr && shard->monitor->Health().down_since.has_value()) {
                ++down;
              }
            }
            return static_cast<double>(down);
          });
    }
    if (!s.ok()) spdlog::warn("ctld metrics: {}", s.ToString());
  }
  Discover();
  SyncMonitors();
  loop_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void FailoverController::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  if (loop_.joinable()) loop_.join();
  std::map<std::string, std::unique_ptr<Shard>> shards;
  {
    absl::MutexLock l(&mu_);
    shards.swap(shards_);
  }
  for (auto& entry : shards) Dispose(entry.second);
  if (options_.metrics != nullptr) {
    (void)options_.metrics->RemoveCallback("shale_ctld_shards");
    (void)options_.metrics->RemoveCallback("shale_ctld_primaries_down");
  }
  absl::MutexLock l(&mu_);
  started_ = false;  // Start may run again (the next leadership term)
  stopping_ = false;
}

bool FailoverController::running() const {
  absl::MutexLock l(&mu_);
  return started_ && !stopping_;
}

void FailoverController::Dispose(std::unique_ptr<Shard>& s) {
  if (s->failover.joinable()) s->failover.join();
  s->watch.reset();  // its callback may take mu_: never destroyed under it
  if (s->monitor != nullptr) s->monitor->Stop();
}

void FailoverController::Loop() {
  for (;;) {
    bool discover = false;
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
      discover = absl::Now() >= next_discovery_;
    }
    if (discover) Discover();
    SyncMonitors();
    CheckFailovers();
    absl::MutexLock l(&mu_);
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || shards_changed_; };
    mu_.AwaitWithTimeout(absl::Condition(&wake), options_.tick);
    shards_changed_ = false;
  }
}

void FailoverController::Discover() {
  std::vector<std::pair<std::string, std::string>> found;
  absl::Status error = absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> keyspaces = ts_->ListKeyspaces();
  if (!keyspaces.ok()) error = keyspaces.status();
  for (const std::string& ks : keyspaces.ok() ? *keyspaces : std::vector<std::string>{}) {
    absl::StatusOr<std::vector<std::string>> shards = ts_->ListShards(ks);
    if (absl::IsNotFound(shards.status())) continue;  // deleted while listing
    if (!shards.ok()) {
      error = shards.status();
      break;
    }
    for (const std::string& s : *shards) found.emplace_back(ks, s);
  }
  std::vector<Shard*> added;
  std::vector<std::unique_ptr<Shard>> gone;
  {
    absl::MutexLock l(&mu_);
    // A failed listing keeps every known shard (a topology outage drops nothing).
    next_discovery_ =
        absl::Now() + (error.ok() ? options_.discovery_interval
                                  : std::min(options_.discovery_interval, absl::Seconds(1)));
    if (!error.ok()) {
      if (discovery_error_.empty()) spdlog::warn("ctld discovery: {}", error.ToString());
      discovery_error_ = std::string(error.message());
    } else {
      discovery_error_.clear();
      std::map<std::string, bool> seen;
      for (const auto& [ks, shard] : found) {
        const std::string key = absl::StrCat(ks, "/", shard);
        seen[key] = true;
        auto it = shards_.find(key);
        if (it == shards_.end()) {
          it = shards_.emplace(key, std::make_unique<Shard>(ks, shard)).first;
          spdlog::info("ctld: watching shard {}", key);
        }
        if (it->second->watch == nullptr) added.push_back(it->second.get());
      }
      for (auto it = shards_.begin(); it != shards_.end();) {
        if (seen.count(it->first) != 0 || it->second->failover_running) {
          ++it;
          continue;
        }
        spdlog::info("ctld: shard {} is gone", it->first);
        gone.push_back(std::move(it->second));
        it = shards_.erase(it);
      }
    }
  }
  for (auto& s : gone) Dispose(s);
  for (Shard* s : added) WatchShard(s);
}

void FailoverController::WatchShard(Shard* s) {
  const std::string path = topo::paths::Shard(s->keyspace, s->name);
  absl::StatusOr<topo::WatchStart> start =
      ts_->global().Watch(path, [this, s](const topo::WatchEvent& e) {
        absl::MutexLock l(&mu_);
        if (e.kind == topo::WatchEvent::Kind::kChanged) {
          topodata::Shard rec;
          if (!rec.ParseFromString(e.value)) return;
          s->record = std::move(rec);
          s->have_record = true;
          shards_changed_ = true;
        } else if (e.kind == topo::WatchEvent::Kind::kDeleted) {
          s->have_record = false;
          shards_changed_ = true;
        }
      });
  if (start.ok()) {
    topodata::Shard rec;
    const bool parsed = rec.ParseFromString(start->current.value);
    absl::MutexLock l(&mu_);
    s->watch = std::move(start->handle);
    // A change reported meanwhile is newer than the first value.
    if (parsed && !s->have_record) {
      s->record = std::move(rec);
      s->have_record = true;
    }
    return;
  }
  // No watch (the record is missing, or the topology is down): read it once;
  // the next discovery tries to watch again.
  absl::StatusOr<topo::ShardInfo> info = ts_->GetShard(s->keyspace, s->name);
  absl::MutexLock l(&mu_);
  if (info.ok()) {
    s->record = info->record;
    s->have_record = true;
  }
}

void FailoverController::SyncMonitors() {
  std::vector<std::unique_ptr<PrimaryMonitor>> to_stop;
  std::vector<PrimaryMonitor*> to_start;
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    for (auto& [key, s] : shards_) {
      const bool has_primary = s->have_record && !s->record.primary_alias().cell().empty();
      const topo::TabletAlias primary =
          has_primary ? topo::TabletAlias::FromProto(s->record.primary_alias()) : topo::TabletAlias{};
      if (s->monitor != nullptr && (!has_primary || s->monitor->alias() != primary)) {
        to_stop.push_back(std::move(s->monitor));
      }
      if (has_primary && s->monitor == nullptr) {
        spdlog::info("ctld: {} primary is {} (term {})", s->key(), primary.ToString(),
                     s->record.primary_term());
        s->monitor = std::make_unique<PrimaryMonitor>(ts_, primary, monitor_options_);
        to_start.push_back(s->monitor.get());
      }
    }
  }
  for (PrimaryMonitor* m : to_start) m->Start();
  for (auto& m : to_stop) m->Stop();
}

void FailoverController::CheckFailovers() {
  std::vector<std::thread> finished;
  absl::MutexLock l(&mu_);
  if (stopping_) return;
  const absl::Time now = absl::Now();
  for (auto& [key, s] : shards_) {
    if (!s->failover_running && s->failover.joinable()) finished.push_back(std::move(s->failover));
    if (s->monitor == nullptr || s->failover_running || now < s->next_attempt) continue;
    const PrimaryHealth h = s->monitor->Health();
    const absl::Duration down = h.DownFor(now);
    if (!h.down_since.has_value() || down < options_.failover_after) continue;
    s->failover_running = true;
    std::string trigger = absl::StrCat("primary ", h.alias.ToString(), " unreachable for ",
                                       absl::FormatDuration(absl::Trunc(down, absl::Milliseconds(1))),
                                       ": ", h.last_error);
    Shard* shard = s.get();
    const int64_t term = s->record.primary_term();
    s->failover = std::thread([this, shard, alias = h.alias, term, down,
                               trigger = std::move(trigger)] {
      RunFailover(shard, alias, term, down, trigger);
    });
  }
  // The finished threads have released mu_ for good; joining them here is safe.
  for (std::thread& t : finished) t.join();
}

bool FailoverController::Answers(Shard* s, const topo::TabletAlias& alias) {
  absl::MutexLock l(&mu_);
  if (s->monitor == nullptr || s->monitor->alias() != alias) return false;
  return !s->monitor->Health().down_since.has_value();
}

void FailoverController::RunFailover(Shard* s, topo::TabletAlias primary, int64_t term,
                                     absl::Duration down_for, std::string trigger) {
  const std::string key = s->key();
  spdlog::warn("ctld: {}: {}; running EmergencyReparentShard", key, trigger);
  ctl::ReparentOptions o;
  o.lock_timeout = options_.lock_timeout;
  o.rpc_timeout = absl::Seconds(5);
  // The old primary has not answered for failover_after: demoting it is a courtesy.
  o.demote_timeout = monitor_options_.ping_timeout;
  o.dial = options_.dial;
  o.reason = absl::StrCat("ctld failover: ", trigger);
  o.progress = [key](const std::string& line) { spdlog::info("ctld: {}: {}", key, line); };
  o.skip_if = [this, s, &primary, term](const topodata::Shard& rec) -> std::string {
    const std::string now_primary = AliasName(rec.primary_alias());
    if (now_primary != primary.ToString() || rec.primary_term() != term) {
      return absl::StrCat("the primary changed meanwhile: now ",
                          now_primary.empty() ? "none" : now_primary, " (term ",
                          rec.primary_term(), ")");
    }
    if (Answers(s, primary)) {
      return absl::StrCat("primary ", primary.ToString(), " answers again");
    }
    return "";
  };
  absl::StatusOr<ctl::ReparentResult> r =
      ctl::EmergencyReparentShard(*ts_, s->keyspace, s->name, o);

  ReparentEvent e;
  e.time = absl::Now();
  e.keyspace = s->keyspace;
  e.shard = s->name;
  e.trigger = trigger;
  e.old_primary = primary.ToString();
  e.old_term = term;
  e.down_for = down_for;
  e.result = nullptr;
  if (!r.ok()) {
    e.outcome = ReparentEvent::Outcome::kFailed;
    e.message = std::string(r.status().message());
  } else {
    e.result = r->ToJson();
    e.took = r->took;
    e.message = r->message;
    e.outcome = !r->skipped.empty() ? ReparentEvent::Outcome::kSkipped
                                    : ReparentEvent::Outcome::kSucceeded;
    if (r->changed) {
      e.new_primary = r->new_primary;
      e.new_term = r->new_term;
      if (failover_seconds_ != nullptr) failover_seconds_->ObserveDuration(down_for + r->took);
    }
  }
  const ReparentEvent::Outcome outcome = e.outcome;
  RecordOutcome(std::move(e));
  absl::MutexLock l(&mu_);
  s->failover_running = false;
  if (outcome == ReparentEvent::Outcome::kFailed) {
    s->next_attempt = absl::Now() + options_.retry_interval;
  } else if (outcome == ReparentEvent::Outcome::kSkipped) {
    s->next_attempt = absl::Now() + options_.failover_after;  // let the monitor catch up
  }
}

void FailoverController::RecordOutcome(ReparentEvent event) {
  const std::string key = absl::StrCat(event.keyspace, "/", event.shard);
  switch (event.outcome) {
    case ReparentEvent::Outcome::kSucceeded:
      spdlog::warn("ctld: {}: failover done in {}: {}", key, absl::FormatDuration(event.took),
                   event.message);
      break;
    case ReparentEvent::Outcome::kSkipped:
      spdlog::info("ctld: {}: failover not needed: {}", key, event.message);
      break;
    case ReparentEvent::Outcome::kFailed:
      spdlog::error("ctld: {}: failover failed (retry in {}): {}", key,
                    absl::FormatDuration(options_.retry_interval), event.message);
      break;
  }
  if (failovers_ != nullptr) failovers_->WithLabels({OutcomeName(event.outcome)})->Inc();
  history_.Add(std::move(event));
}

}  // namespace shale::ctld
