#include "tablet/replication/replication_manager.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/backoff.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/client/tablet_client.h"
#include "tablet/replication/applier.h"
#include "tablet/replication/clone.h"
#include "tablet/replication/log_store.h"
#include "topo/paths.h"

namespace shale::tablet::replication {
namespace {

bool HasAlias(const topodata::TabletAlias& a) { return !a.cell().empty(); }

bool SameTablet(const topodata::TabletAlias& a, const topodata::TabletAlias& b) {
  return a.cell() == b.cell() && a.uid() == b.uid();
}

std::string AliasString(const topodata::TabletAlias& a) {
  return HasAlias(a) ? topo::TabletAlias::FromProto(a).ToString() : std::string("(none)");
}

// Errors after which following the same source again cannot help: the
// replica's log must be replaced by a snapshot.
bool NeedsClone(const absl::Status& s) {
  return absl::IsOutOfRange(s) || absl::IsDataLoss(s) ||
         (absl::IsFailedPrecondition(s) && absl::StrContains(s.message(), "diverged"));
}

}  // namespace

ReplicationManager::ReplicationManager(topo::Server* ts, ReplicationOptions options)
    : ts_(ts), options_(std::move(options)) {
  fence_ = std::make_unique<PrimaryFence>(
      [this](std::string* detail) { return ConfirmPrimary(detail); }, options_.fence);
  writer_.SetFence(fence_.get());
}

ReplicationManager::~ReplicationManager() { Stop(); }

absl::StatusOr<FenceAnswer> ReplicationManager::ConfirmPrimary(std::string* detail) {
  ASSIGN_OR_RETURN(topo::ShardInfo info, ts_->GetShard(options_.keyspace, options_.shard));
  const topodata::Shard& shard = info.record;
  if (!HasAlias(shard.primary_alias())) {
    return absl::UnavailableError("the Shard record names no primary");
  }
  const topo::TabletAlias primary = topo::TabletAlias::FromProto(shard.primary_alias());
  *detail = absl::StrCat("the Shard record names ", primary.ToString(), " at term ",
                         shard.primary_term());
  if (primary == options_.self) return FenceAnswer::kStillPrimary;
  // Hand the record to the tablet (it demotes itself and follows).
  OnShardRecord(shard);
  return FenceAnswer::kDeposed;
}

absl::Status ReplicationManager::Start(engine::Engine* engine, ChangeConfigHandler handler,
                                       ShardRecordHandler on_shard_record) {
  engine_ = engine;
  on_change_config_ = std::move(handler);
  on_shard_record_ = std::move(on_shard_record);
  RETURN_IF_ERROR(CreateLogTable(*engine_));
  ASSIGN_OR_RETURN(LogState state, ReadLogState(*engine_));
  position_.Reset(state.position);
  writer_.ResetSeq(state.position.seq());
  {
    absl::MutexLock lock(&mu_);
    known_term_ = std::max(known_term_, state.position.term());
    first_seq_ = state.first_seq;
  }
  spdlog::info("replication log at entry {} (term {}), oldest retained {}", state.position.seq(),
               state.position.term(), state.first_seq);
  WatchShard();
  stream_thread_ = std::thread([this] { StreamLoop(); });
  housekeeping_thread_ = std::thread([this] { HousekeepingLoop(); });
  return absl::OkStatus();
}

void ReplicationManager::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  fence_->Stop();
  shard_watch_.reset();
  if (stream_thread_.joinable()) stream_thread_.join();
  if (housekeeping_thread_.joinable()) housekeeping_thread_.join();
}

void ReplicationManager::WatchShard() {
  absl::StatusOr<topo::WatchStart> start = ts_->global().Watch(
      topo::paths::Shard(options_.keyspace, options_.shard), [this](const topo::WatchEvent& e) {
        if (e.kind != topo::WatchEvent::Kind::kChanged) return;
        topodata::Shard shard;
        if (shard.ParseFromString(e.value)) OnShardRecord(shard);
      });
  if (!start.ok()) {
    // Without a watch the stream thread reads the record when it (re)connects.
    spdlog::warn("cannot watch the Shard record: {}", start.status().ToString());
    return;
  }
  shard_watch_ = std::move(start->handle);
  {
    absl::MutexLock lock(&mu_);
    watching_ = true;
  }
  topodata::Shard shard;
  if (shard.ParseFromString(start->current.value)) OnShardRecord(shard);
}

void ReplicationManager::OnShardRecord(const topodata::Shard& shard) {
  {
    absl::MutexLock lock(&mu_);
    const bool moved =
        !have_shard_ ||
        shard.primary_alias().SerializeAsString() != shard_.primary_alias().SerializeAsString() ||
        shard.primary_term() != shard_.primary_term();
    shard_ = shard;
    have_shard_ = true;
    if (moved) {
      ++generation_;
      const bool names_me = topo::TabletAlias::FromProto(shard.primary_alias()) == options_.self;
      if (stream_context_ != nullptr && !HasAlias(explicit_source_) && !names_me) {
        // A new primary: the stream to the old one has no future.
        config_source_.Clear();
        stream_context_->TryCancel();
      }
    }
  }
  if (on_shard_record_) on_shard_record_(shard);
}

void ReplicationManager::BecomePrimary(int64_t term) {
  StopReplication();
  writer_.SetTerm(term);
  writer_.ResetSeq(position_.seq());
  acks_.ResetSemiSyncFloor(position_.seq());
  fence_->Arm();
  absl::MutexLock lock(&mu_);
  primary_ = true;
  known_term_ = std::max(known_term_, term);
  explicit_source_.Clear();
  config_source_.Clear();
}

void ReplicationManager::BecomeReplica(bool start) {
  fence_->Disarm();
  absl::MutexLock lock(&mu_);
  primary_ = false;
  if (start) running_ = true;
  ++generation_;
  if (stream_context_ != nullptr) stream_context_->TryCancel();
}

bool ReplicationManager::is_primary() const {
  absl::MutexLock lock(&mu_);
  return primary_;
}

absl::Status ReplicationManager::SetSource(const topodata::TabletAlias& source, int64_t term,
                                           bool start) {
  absl::MutexLock lock(&mu_);
  if (term < known_term_ && term != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing a replication source for term ", term, ": this tablet knows term ", known_term_));
  }
  if (primary_) {
    return absl::FailedPreconditionError(
        "this tablet is the primary; demote it before giving it a replication source");
  }
  known_term_ = std::max(known_term_, term);
  explicit_source_ = source;
  if (!HasAlias(source)) config_source_.Clear();
  if (start) running_ = true;
  ++generation_;
  if (stream_context_ != nullptr) stream_context_->TryCancel();
  return absl::OkStatus();
}

void ReplicationManager::FollowWriter(const topodata::TabletAlias& writer) {
  absl::MutexLock lock(&mu_);
  explicit_source_.Clear();
  config_source_ = writer;
  running_ = true;
  ++generation_;
  if (stream_context_ != nullptr) stream_context_->TryCancel();
}

void ReplicationManager::StartReplication() {
  absl::MutexLock lock(&mu_);
  running_ = true;
}

void ReplicationManager::StopReplication() {
  absl::MutexLock lock(&mu_);
  running_ = false;
  ++generation_;
  // The stream thread itself (a CHANGE_CONFIG handler promoting this tablet)
  // must neither cancel its stream (the CHANGE_CONFIG's acknowledgement is
  // still to be sent) nor wait for its own batch.
  if (std::this_thread::get_id() == stream_thread_.get_id()) return;
  if (stream_context_ != nullptr) stream_context_->TryCancel();
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !applying_; };
  mu_.Await(absl::Condition(&idle));
}

int64_t ReplicationManager::known_term() const {
  absl::MutexLock lock(&mu_);
  return std::max(known_term_, position_.Get().term());
}

topodata::TabletAlias ReplicationManager::current_source() const {
  absl::MutexLock lock(&mu_);
  return current_source_;
}

bool ReplicationManager::ShouldFollow() const {
  absl::MutexLock lock(&mu_);
  return !stopping_ && running_ && !primary_;
}

double ReplicationManager::LagSeconds() const {
  const LogPosition applied = position_.Get();
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  if (primary_) return 0;
  const absl::Time applied_ts = absl::FromUnixMicros(applied.commit_ts_us());
  if (connected_ && applied.seq() >= source_position_.seq()) {
    // Caught up: lag shows only when the source has gone quiet for longer
    // than its heartbeats allow.
    const absl::Duration quiet = now - last_batch_ - 2 * options_.heartbeat_interval;
    return std::max(0.0, absl::ToDoubleSeconds(quiet));
  }
  if (applied.seq() == 0) return 0;
  return std::max(0.0, absl::ToDoubleSeconds(now - applied_ts));
}

ReplicationStatus ReplicationManager::Status() const {
  ReplicationStatus s;
  *s.mutable_position() = position_.Get();
  s.set_lag_seconds(LagSeconds());
  for (auto& f : acks_.Followers()) *s.add_followers() = std::move(f);
  absl::MutexLock lock(&mu_);
  *s.mutable_source() = current_source_;
  s.set_running(running_ && !primary_);
  s.set_connected(connected_);
  s.set_last_error(last_error_);
  s.set_term(std::max(known_term_, s.position().term()));
  s.set_log_first_seq(first_seq_);
  s.set_is_primary(primary_);
  s.set_clone_progress(clone_progress_);
  return s;
}

absl::StatusOr<topodata::TabletAlias> ReplicationManager::ResolveSource() {
  {
    absl::MutexLock lock(&mu_);
    if (HasAlias(explicit_source_)) return explicit_source_;
    if (HasAlias(config_source_)) return config_source_;
  }
  topodata::Shard record;
  bool watched;
  {
    absl::MutexLock lock(&mu_);
    watched = have_shard_ && watching_;
    record = shard_;
  }
  if (!watched) {
    ASSIGN_OR_RETURN(topo::ShardInfo shard, ts_->GetShard(options_.keyspace, options_.shard));
    record = shard.record;
  }
  if (!HasAlias(record.primary_alias())) {
    return absl::UnavailableError("the shard has no primary yet");
  }
  return record.primary_alias();
}

void ReplicationManager::StreamLoop() {
  Backoff backoff(options_.reconnect_min, options_.reconnect_max);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || (running_ && !primary_);
      };
      mu_.Await(absl::Condition(&wake));
      if (stopping_) return;
    }
    absl::StatusOr<topodata::TabletAlias> source = ResolveSource();
    absl::Status status = source.status();
    if (source.ok()) {
      if (topo::TabletAlias::FromProto(*source) == options_.self) {
        status = absl::UnavailableError("the shard record names this tablet as primary");
      } else {
        status = FollowOnce(*source);
        if (NeedsClone(status) && ShouldFollow()) {
          spdlog::warn("replication from {}: {}; cloning", AliasString(*source), status.ToString());
          status = CloneFromSource(*source);
          if (status.ok()) backoff.Reset();
        }
      }
    }
    {
      absl::MutexLock lock(&mu_);
      connected_ = false;
      if (!status.ok()) last_error_ = std::string(status.message());
      if (!status.ok() && source.ok() && HasAlias(config_source_) && absl::IsUnavailable(status)) {
        // The writer named by CHANGE_CONFIG is unreachable: fall back to the
        // Shard record.
        config_source_.Clear();
      }
      if (stopping_) return;
    }
    if (!status.ok()) {
      spdlog::debug("replication: {}", status.ToString());
      const absl::Duration pause = backoff.Next();
      absl::MutexLock lock(&mu_);
      const int64_t gen = generation_;
      auto changed = [this, gen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || generation_ != gen;
      };
      mu_.AwaitWithTimeout(absl::Condition(&changed), pause);
    } else {
      backoff.Reset();
    }
  }
}

absl::Status ReplicationManager::FollowOnce(const topodata::TabletAlias& source) {
  ASSIGN_OR_RETURN(std::unique_ptr<TabletClient> client,
                   TabletClient::ForTablet(*ts_, topo::TabletAlias::FromProto(source)));
  if (position_.seq() == 0) {
    // An empty replica copies a snapshot rather than replaying from entry 1.
    PrimaryPositionRequest req;
    absl::StatusOr<PrimaryPositionResponse> pos = client->Call(
        client->replication(), &Replication::Stub::PrimaryPosition, req, absl::Seconds(5));
    RETURN_IF_ERROR(pos.status());
    if (pos->position().seq() > 0) {
      return absl::OutOfRangeError("this tablet is empty and its source has data");
    }
  }
  grpc::ClientContext context;
  int64_t gen;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || !running_ || primary_) return absl::OkStatus();
    stream_context_ = &context;
    current_source_ = source;
    gen = generation_;
  }
  auto stream = client->replication().StreamLog(&context);
  StreamLogRequest first;
  *first.mutable_replica() = options_.self.ToProto();
  *first.mutable_from() = position_.Get();
  first.set_min_term(known_term());
  first.set_semi_sync(acks_count_.load());
  first.set_applied_seq(position_.seq());
  absl::Status status;
  bool promoted = false;
  if (stream->Write(first)) {
    StreamLogResponse batch;
    while (stream->Read(&batch)) {
      {
        absl::MutexLock lock(&mu_);
        if (!running_ || primary_ || stopping_ || generation_ != gen) break;
        applying_ = true;
        connected_ = true;
        last_batch_ = absl::Now();
        source_position_ = batch.source_position();
        last_error_.clear();
      }
      std::vector<LogEntry> owned(std::make_move_iterator(batch.mutable_entries()->begin()),
                                  std::make_move_iterator(batch.mutable_entries()->end()));
      absl::Span<const LogEntry> entries(owned);
      bool stop = false;
      while (!entries.empty() && status.ok()) {
        absl::StatusOr<ApplyResult> r =
            // Fencing within the stream: terms never go backwards from the
            // replica's own newest entry. (Terms it merely heard of guard the
            // choice of source instead: min_term in the first request.)
            ApplyEntries(*engine_, entries, position_.Get(), position_.Get().term());
        if (!r.ok()) {
          status = r.status();
          break;
        }
        position_.Advance(r->position);
        {
          absl::MutexLock lock(&mu_);
          known_term_ = std::max(known_term_, r->term);
        }
        entries.remove_prefix(r->applied);
        if (r->change_config.has_value()) {
          const ChangeConfig& cc = *r->change_config;
          spdlog::info("applied CHANGE_CONFIG at entry {}: term {}, writer {}", r->position.seq(),
                       cc.term(), AliasString(cc.writer()));
          if (on_change_config_ && on_change_config_(cc, r->position)) promoted = true;
          if (!promoted) {
            // The primary moved: follow it, whatever source was set before.
            absl::MutexLock lock(&mu_);
            explicit_source_.Clear();
            config_source_ = cc.writer();
          }
          // Keep this stream when its source is the new writer (it starts
          // its own term: first election, emergency reparent); reconnect
          // otherwise.
          if (promoted || !SameTablet(cc.writer(), source)) {
            stop = true;
            break;
          }
        }
      }
      StreamLogRequest ack;
      ack.set_applied_seq(position_.seq());
      const bool acked = stream->Write(ack);
      {
        absl::MutexLock lock(&mu_);
        applying_ = false;
      }
      if (!status.ok() || stop || !acked) break;
    }
  }
  {
    absl::MutexLock lock(&mu_);
    applying_ = false;
    stream_context_ = nullptr;
    if (promoted) current_source_.Clear();
  }
  // Half-close rather than cancel, so the last acknowledgement (the one for a
  // CHANGE_CONFIG the old primary waits on) is delivered; the source ends the
  // stream when it sees the half-close.
  stream->WritesDone();
  StreamLogResponse drained;
  while (stream->Read(&drained)) {
  }
  grpc::Status end = stream->Finish();
  if (!status.ok()) return status;
  if (!end.ok() && end.error_code() != grpc::StatusCode::CANCELLED) {
    return FromGrpcStatus(end);
  }
  return absl::OkStatus();
}

absl::Status ReplicationManager::CloneFromSource(const topodata::TabletAlias& source) {
  ASSIGN_OR_RETURN(std::unique_ptr<TabletClient> client,
                   TabletClient::ForTablet(*ts_, topo::TabletAlias::FromProto(source)));
  const std::string name = AliasString(source);
  absl::StatusOr<LogPosition> pos =
      CloneFrom(client->replication(), name, options_.self.ToProto(), *engine_,
                options_.scratch_dir, [this](const std::string& line) {
                  absl::MutexLock lock(&mu_);
                  clone_progress_ = line;
                });
  {
    absl::MutexLock lock(&mu_);
    clone_progress_.clear();
  }
  RETURN_IF_ERROR(pos.status());
  position_.Reset(*pos);
  ASSIGN_OR_RETURN(LogState state, ReadLogState(*engine_));
  absl::MutexLock lock(&mu_);
  first_seq_ = state.first_seq;
  known_term_ = std::max(known_term_, pos->term());
  spdlog::info("cloned from {}: now at log entry {} (term {})", name, pos->seq(), pos->term());
  return absl::OkStatus();
}

void ReplicationManager::HousekeepingLoop() {
  absl::Time next_trim = absl::Now();
  while (true) {
    bool primary;
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), options_.heartbeat_interval / 4)) return;
      primary = primary_;
    }
    const absl::Time now = absl::Now();
    // Not while the fence holds writes: a deposed primary's heartbeat would
    // make its log diverge from the new primary's (and force a re-clone).
    if (primary && now - position_.last_change() >= options_.heartbeat_interval &&
        !engine_->IsReadOnly() && !fence_->Holding()) {
      absl::StatusOr<LogPosition> hb =
          writer_.AppendControl(*engine_, HEARTBEAT, "", writer_.term());
      if (!hb.ok()) spdlog::warn("heartbeat failed: {}", hb.status().ToString());
    }
    if (now >= next_trim) {
      next_trim = now + absl::Seconds(10);
      const int64_t keep_from = position_.seq() - options_.log_retention + 1;
      int64_t first;
      {
        absl::MutexLock lock(&mu_);
        first = first_seq_;
      }
      if (first > 0 && keep_from > first) {
        absl::StatusOr<int64_t> trimmed = TrimLog(*engine_, keep_from);
        if (trimmed.ok()) {
          absl::MutexLock lock(&mu_);
          first_seq_ = keep_from;
        }
        if (trimmed.ok() && *trimmed > 0) {
          spdlog::info("log trimmed: {} entries before {}", *trimmed, keep_from);
        }
      }
    }
  }
}

}  // namespace shale::tablet::replication
