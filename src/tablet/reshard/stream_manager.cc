#include "tablet/reshard/stream_manager.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/reshard/filtered_stream.h"
#include "tablet/reshard/state_store.h"

namespace shale::tablet::reshard {
namespace {

// How long the role thread waits for a state change before it looks again
// (it only wakes the control thread when the generation moved).
constexpr absl::Duration kRoleWait = absl::Milliseconds(250);

// A MoveTables stream (from another keyspace, with a table list) runs only
// while this shard's record denies every one of its tables: the tables are
// moving in and not served here yet (or, for a reverse stream, were moved
// away). Otherwise it is dormant.
bool TablesDenied(const topodata::Shard& shard, const topodata::Shard::SourceShard& source) {
  for (const std::string& table : source.tables()) {
    bool denied = false;
    for (const std::string& d : shard.denied_tables()) {
      denied = denied || absl::EqualsIgnoreCase(d, table);
    }
    if (!denied) return false;
  }
  return true;
}

bool SameSourceShard(const topodata::Shard::SourceShard& a,
                     const topodata::Shard::SourceShard& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

}  // namespace

StreamManager::StreamManager(topo::Server* ts, engine::Engine* engine,
                             StreamManagerOptions options, TabletHooks hooks)
    : ts_(ts), engine_(engine), options_(std::move(options)), hooks_(std::move(hooks)) {}

StreamManager::~StreamManager() { Stop(); }

absl::Status StreamManager::Start() {
  control_thread_ = std::thread([this] { ControlLoop(); });
  if (hooks_.wait_for_change) role_thread_ = std::thread([this] { RoleLoop(); });
  return absl::OkStatus();
}

void StreamManager::Stop() {
  std::map<uint32_t, std::shared_ptr<FilteredStream>> streams;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    streams.swap(streams_);
  }
  if (control_thread_.joinable()) control_thread_.join();
  if (role_thread_.joinable()) role_thread_.join();
  for (auto& [uid, stream] : streams) stream->Stop();
}

void StreamManager::OnShardRecord(const topodata::Shard& shard) {
  absl::MutexLock lock(&mu_);
  shard_ = shard;
  have_shard_ = true;
  dirty_ = true;
}

void StreamManager::RoleLoop() {
  int64_t seen = -1;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    const int64_t gen = hooks_.wait_for_change(seen, kRoleWait);
    if (gen != seen) {
      seen = gen;
      absl::MutexLock lock(&mu_);
      dirty_ = true;
    }
  }
}

void StreamManager::ControlLoop() {
  for (;;) {
    topodata::Shard shard;
    bool have_shard;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || dirty_; };
      mu_.Await(absl::Condition(&wake));
      if (stopping_) return;
      dirty_ = false;
      shard = shard_;
      have_shard = have_shard_;
    }
    const bool primary = hooks_.is_primary && hooks_.is_primary();
    absl::Status s = Reconcile(have_shard ? &shard : nullptr, primary);
    if (!s.ok()) {
      spdlog::warn("reshard: reconciling the streams with the Shard record: {}", s.ToString());
      // Try again on the next change, or after a pause.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1));
      dirty_ = true;
    }
  }
}

absl::Status StreamManager::Reconcile(const topodata::Shard* shard, bool primary) {
  absl::MutexLock serial(&reconcile_mu_);
  std::map<uint32_t, topodata::Shard::SourceShard> want;    // streams to run
  std::map<uint32_t, topodata::Shard::SourceShard> listed;  // state to keep
  if (primary && shard != nullptr) {
    // A shard that serves PRIMARY writes for itself: it follows no shard of
    // its own keyspace. The streams a primary switch starts into the side
    // that still writes stay dormant until the flip takes PRIMARY away, so
    // an interrupted switch never has both sides applying each other's
    // changes (docs/resharding.md). A stream of tables from another keyspace
    // (MoveTables) runs only while the record denies all its tables.
    bool serves_primary = false;
    for (const auto& st : shard->served_types()) {
      serves_primary = serves_primary || st.tablet_type() == topodata::PRIMARY;
    }
    for (const auto& s : shard->source_shards()) {
      listed[s.uid()] = s;
      if (serves_primary && s.keyspace() == options_.keyspace) continue;
      if (s.keyspace() != options_.keyspace && s.tables_size() > 0 && !TablesDenied(*shard, s)) {
        continue;
      }
      want[s.uid()] = s;
    }
  }
  // Stop what is no longer wanted (or wanted differently).
  std::vector<std::shared_ptr<FilteredStream>> stop;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::OkStatus();
    for (auto it = streams_.begin(); it != streams_.end();) {
      auto w = want.find(it->first);
      if (w == want.end() || !SameSourceShard(w->second, it->second->source())) {
        stop.push_back(it->second);
        it = streams_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& s : stop) s->Stop();
  if (!primary || shard == nullptr) return absl::OkStatus();

  // Forget the state of uids no longer listed, or listed with another source.
  ASSIGN_OR_RETURN(std::vector<StreamRecord> records, ReadRecords(*engine_));
  std::vector<uint32_t> stale;
  for (const StreamRecord& r : records) {
    auto w = listed.find(r.state.uid());
    if (w == listed.end() || !SameSource(r, w->second)) stale.push_back(r.state.uid());
  }
  if (!stale.empty()) {
    RETURN_IF_ERROR(engine_->RunInternalWrite([&](engine::WriteTxn& txn) -> absl::Status {
      for (uint32_t uid : stale) RETURN_IF_ERROR(DeleteRecord(txn, uid));
      return absl::OkStatus();
    }));
    for (uint32_t uid : stale) spdlog::info("reshard: state of stream {} deleted", uid);
  }

  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::OkStatus();
  for (const auto& [uid, source] : want) {
    if (streams_.contains(uid)) continue;
    StreamConfig c;
    c.source = source;
    c.keyspace = options_.keyspace;
    c.key_range = options_.key_range;
    c.copy_batch_rows = options_.copy_batch_rows;
    c.backoff_initial = options_.backoff_initial;
    c.backoff_max = options_.backoff_max;
    if (options_.metrics != nullptr) {
      const std::string label = absl::StrCat(uid);
      c.rows_copied = options_.metrics
                          ->AddCounterFamily("shale_reshard_rows_copied_total",
                                             "Rows a resharding stream copied.", {"uid"})
                          ->WithLabels({label});
      c.events_applied = options_.metrics
                             ->AddCounterFamily("shale_reshard_events_applied_total",
                                                "Change events a resharding stream applied.",
                                                {"uid"})
                             ->WithLabels({label});
      c.lag_seconds = options_.metrics
                          ->AddGaugeFamily("shale_reshard_lag_seconds",
                                           "Now minus the source commit time of the newest "
                                           "event a resharding stream applied.",
                                           {"uid"})
                          ->WithLabels({label});
    }
    auto stream = std::make_shared<FilteredStream>(ts_, engine_, std::move(c));
    stream->Start();
    streams_[uid] = std::move(stream);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StreamState>> StreamManager::Sync() {
  if (!hooks_.is_primary || !hooks_.is_primary()) {
    return absl::FailedPreconditionError(
        absl::StrCat("SyncStreams: this tablet is not the primary of ", options_.keyspace, "/",
                     options_.shard));
  }
  ASSIGN_OR_RETURN(topo::ShardInfo info, ts_->GetShard(options_.keyspace, options_.shard));
  {
    absl::MutexLock lock(&mu_);
    shard_ = info.record;
    have_shard_ = true;
  }
  RETURN_IF_ERROR(Reconcile(&info.record, hooks_.is_primary()));
  return States();
}

std::shared_ptr<FilteredStream> StreamManager::Find(uint32_t uid) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(uid);
  return it == streams_.end() ? nullptr : it->second;
}

std::vector<StreamState> StreamManager::States() {
  std::map<uint32_t, StreamState> out;
  absl::StatusOr<std::vector<StreamRecord>> records = ReadRecords(*engine_);
  if (records.ok()) {
    for (const StreamRecord& r : *records) out[r.state.uid()] = r.state;
  }
  std::map<uint32_t, std::shared_ptr<FilteredStream>> running;
  {
    absl::MutexLock lock(&mu_);
    running = streams_;
  }
  for (const auto& [uid, stream] : running) out[uid] = stream->State();
  std::vector<StreamState> v;
  for (auto& [uid, s] : out) v.push_back(std::move(s));
  return v;
}

absl::StatusOr<StreamState> StreamManager::State(uint32_t uid) {
  for (StreamState& s : States()) {
    if (s.uid() == uid) return s;
  }
  return absl::NotFoundError(absl::StrCat("no stream ", uid, " on this tablet"));
}

namespace {
absl::Status NotRunning(uint32_t uid) {
  return absl::NotFoundError(absl::StrCat("no stream ", uid, " runs on this tablet"));
}
}  // namespace

absl::StatusOr<StreamState> StreamManager::WaitForPosition(uint32_t uid,
                                                           const ChangePosition& position,
                                                           absl::Time deadline) {
  std::shared_ptr<FilteredStream> s = Find(uid);
  if (s == nullptr) return NotRunning(uid);
  return s->WaitForPosition(position, deadline);
}

absl::StatusOr<StreamState> StreamManager::Pause(uint32_t uid) {
  std::shared_ptr<FilteredStream> s = Find(uid);
  if (s == nullptr) return NotRunning(uid);
  return s->Pause();
}

absl::StatusOr<StreamState> StreamManager::ResumeUntil(uint32_t uid, const ChangePosition& until,
                                                       absl::Time deadline) {
  std::shared_ptr<FilteredStream> s = Find(uid);
  if (s == nullptr) return NotRunning(uid);
  return s->ResumeUntil(until, deadline);
}

void StreamManager::Resume(uint32_t uid) {
  std::shared_ptr<FilteredStream> s = Find(uid);
  if (s != nullptr) s->Resume();
}

}  // namespace shale::tablet::reshard
