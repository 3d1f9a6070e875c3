#include "discovery/health_check.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "spdlog/spdlog.h"

namespace shale::discovery {

struct HealthCheck::Entry {
  Entry(absl::Duration initial, absl::Duration max) : backoff(initial, max) {}

  topodata::Tablet record;
  std::string address;
  std::shared_ptr<tablet::TabletClient> conn;
  TabletHealthPtr health;                // the published snapshot; never null
  std::shared_ptr<HealthStream> stream;  // null while waiting to reconnect, or closed
  absl::Time quiet_since;                // the stream's start or its last message
  absl::Time retry_at = absl::InfiniteFuture();  // reconnect time while stream is null
  Backoff backoff;
  int failed_attempts = 0;  // streams in a row that ended without a message
  bool mismatch = false;  // closed for an alias mismatch until the record changes
};

namespace {

absl::Time FromProtoTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

TargetKey RecordTarget(const topodata::Tablet& record) {
  return {record.keyspace(), record.shard(), record.type()};
}

// The snapshot's fields that come from the record alone.
void SetFromRecord(TabletHealth& h, const topodata::Tablet& record) {
  h.tablet = record;
  if (h.messages > 0) return;  // the tablet's own reports win
  h.target = RecordTarget(record);
  h.primary_term = record.primary_term();
  h.primary_term_start_time = record.has_primary_term_start_time()
                                  ? FromProtoTime(record.primary_term_start_time())
                                  : absl::InfinitePast();
}

std::string GrpcError(const grpc::Status& status) {
  if (status.ok()) return "the tablet ended its health stream";
  return absl::StrCat("health stream: ", status.error_message(), " (gRPC code ",
                      static_cast<int>(status.error_code()), ")");
}

}  // namespace

HealthCheck::HealthCheck(HealthCheckOptions options) : options_(std::move(options)) {}

HealthCheck::~HealthCheck() { Stop(); }

void HealthCheck::Start() {
  absl::MutexLock l(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void HealthCheck::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& entry : tablets_) CloseStream(*entry.second);
  }
  FlushStreams();
  {
    absl::MutexLock l(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return live_streams_ == 0; };
    mu_.Await(absl::Condition(&done));
  }
  if (thread_.joinable()) thread_.join();
  std::vector<std::shared_ptr<HealthStream>> dead;
  std::deque<TabletHealthPtr> notifications;
  {
    absl::MutexLock l(&mu_);
    dead.swap(graveyard_);
    notifications.swap(notifications_);
  }
}

std::shared_ptr<tablet::TabletClient> HealthCheck::Connect(const std::string& address) {
  ++stats_.connections;
  if (options_.connect) return options_.connect(address);
  return tablet::TabletClient::Connect(address);
}

std::unique_ptr<HealthCheck::Entry> HealthCheck::NewEntry(const topodata::Tablet& record,
                                                          std::string address) {
  auto e = std::make_unique<Entry>(options_.retry_initial, options_.retry_max);
  e->record = record;
  e->address = std::move(address);
  e->conn = Connect(e->address);
  auto h = std::make_shared<TabletHealth>();
  h->alias = topo::TabletAlias::FromProto(record.alias());
  h->address = e->address;
  h->conn = e->conn;
  SetFromRecord(*h, record);
  e->health = h;
  return e;
}

absl::Status HealthCheck::AddTablet(const topodata::Tablet& record) {
  return ReplaceTablet(record);
}

absl::Status HealthCheck::ReplaceTablet(const topodata::Tablet& record) {
  const topo::TabletAlias alias = topo::TabletAlias::FromProto(record.alias());
  if (!IsCompleteRecord(record)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tablet ", alias.ToString(), ": record needs keyspace, shard, hostname and gRPC port"));
  }
  absl::StatusOr<std::string> address = TabletAddress(record);
  if (!address.ok()) return address.status();
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return absl::FailedPreconditionError("the health check is stopped");
    const absl::Time now = absl::Now();
    auto it = tablets_.find(alias);
    if (it == tablets_.end()) {
      std::unique_ptr<Entry> e = NewEntry(record, *std::move(address));
      cache_.Update(nullptr, e->health);
      notifications_.push_back(e->health);
      OpenStream(*e, now);
      tablets_.emplace(alias, std::move(e));
    } else {
      Entry& e = *it->second;
      if (google::protobuf::util::MessageDifferencer::Equals(e.record, record) && !e.mismatch) {
        return absl::OkStatus();
      }
      const bool reconnect = e.mismatch || *address != e.address;
      e.record = record;
      if (!reconnect) {
        Publish(e, [&record](TabletHealth& h) { SetFromRecord(h, record); });
      } else {
        // Another process (or the right one at last): start from scratch.
        CloseStream(e);
        e.address = *std::move(address);
        e.conn = Connect(e.address);
        e.mismatch = false;
        e.backoff.Reset();
        Publish(e, [&e, &record](TabletHealth& h) {
          TabletHealth fresh;
          fresh.alias = h.alias;
          fresh.address = e.address;
          fresh.conn = e.conn;
          h = std::move(fresh);
          SetFromRecord(h, record);
        });
        OpenStream(e, now);
      }
    }
  }
  FlushStreams();
  return absl::OkStatus();
}

void HealthCheck::RemoveTablet(const topo::TabletAlias& alias) {
  {
    absl::MutexLock l(&mu_);
    auto it = tablets_.find(alias);
    if (it == tablets_.end()) return;
    Entry& e = *it->second;
    CloseStream(e);
    auto last = std::make_shared<TabletHealth>(*e.health);
    last->stream_up = false;
    last->serving = false;
    last->last_error = "removed from the topology";
    cache_.Update(e.health, nullptr);
    notifications_.push_back(std::move(last));
    tablets_.erase(it);
  }
  FlushStreams();
}

void HealthCheck::Publish(Entry& e, const std::function<void(TabletHealth&)>& fn) {
  auto next = std::make_shared<TabletHealth>(*e.health);
  fn(*next);
  cache_.Update(e.health, next);
  e.health = next;
  notifications_.push_back(std::move(next));
}

void HealthCheck::OpenStream(Entry& e, absl::Time now) {
  const uint64_t id = next_stream_id_++;
  e.stream = HealthStream::Make(e.conn, id, this);
  e.quiet_since = now;
  e.retry_at = absl::InfiniteFuture();
  streams_[id] = e.health->alias;
  ++live_streams_;
  ++stats_.stream_starts;
  stream_calls_.push_back({e.stream, /*start=*/true});
  ScheduleTimer(now + options_.health_timeout);
}

void HealthCheck::CloseStream(Entry& e) {
  if (e.stream == nullptr) return;
  streams_.erase(e.stream->id());
  stream_calls_.push_back({std::move(e.stream), /*start=*/false});
  e.stream = nullptr;
}

void HealthCheck::StreamDown(Entry& e, const std::string& error, bool retry, absl::Time now) {
  if (!e.health->stream_up) ++e.failed_attempts;
  if (retry && !stopping_) {
    e.retry_at = now + e.backoff.Next();
    ScheduleTimer(e.retry_at);
  }
  Publish(e, [&error](TabletHealth& h) {
    h.stream_up = false;
    h.last_error = error;
  });
}

void HealthCheck::ScheduleTimer(absl::Time t) {
  if (t < next_timer_) {
    next_timer_ = t;
    timers_changed_ = true;
  }
}

void HealthCheck::OnHealthMessage(uint64_t stream_id, const tablet::StreamHealthResponse& msg) {
  {
    absl::MutexLock l(&mu_);
    auto it = streams_.find(stream_id);
    if (it == streams_.end()) return;  // a stream we closed
    ApplyMessage(*tablets_.at(it->second), msg);
  }
  FlushStreams();
}

void HealthCheck::ApplyMessage(Entry& e, const tablet::StreamHealthResponse& msg) {
  const absl::Time now = absl::Now();
  const topo::TabletAlias reported = topo::TabletAlias::FromProto(msg.tablet_alias());
  if (reported != e.health->alias) {
    const std::string error =
        absl::StrCat("alias mismatch: ", e.address, " is tablet ", reported.ToString(),
                     ", not ", e.health->alias.ToString(), " as its record says");
    spdlog::warn("discovery: {}; not serving until the record changes", error);
    ++stats_.alias_mismatches;
    e.mismatch = true;
    CloseStream(e);
    Publish(e, [&error](TabletHealth& h) {
      h.serving = false;
      h.stream_up = false;
      h.last_error = error;
    });
    return;
  }
  ++stats_.health_updates;
  e.quiet_since = now;
  e.backoff.Reset();
  e.failed_attempts = 0;
  Publish(e, [&msg, now](TabletHealth& h) {
    h.target = {msg.target().keyspace(), msg.target().shard(), msg.target().tablet_type()};
    h.serving = msg.serving();
    h.primary_term = msg.primary_term();
    h.primary_term_start_time = msg.has_primary_term_start_time()
                                    ? FromProtoTime(msg.primary_term_start_time())
                                    : absl::InfinitePast();
    h.replication_lag_seconds = msg.realtime_stats().replication_lag_seconds();
    h.log_position = msg.realtime_stats().log_position();
    h.health_error = msg.realtime_stats().health_error();
    h.stream_up = true;
    h.last_message = now;
    ++h.messages;
  });
}

void HealthCheck::OnStreamDone(std::shared_ptr<HealthStream> stream,
                               const grpc::Status& status) {
  {
    absl::MutexLock l(&mu_);
    const uint64_t stream_id = stream->id();
    graveyard_.push_back(std::move(stream));
    auto it = streams_.find(stream_id);
    if (it != streams_.end()) {  // else a stream we closed
      Entry& e = *tablets_.at(it->second);
      streams_.erase(it);
      e.stream = nullptr;
      ++stats_.stream_errors;
      StreamDown(e, GrpcError(status), /*retry=*/true, absl::Now());
    }
  }
  FlushStreams();
  // The last touch of this: once the count is 0, Stop may return (a Mutex may
  // be destroyed by a thread that saw the state its last holder left).
  absl::MutexLock l(&mu_);
  --live_streams_;
}

absl::Time HealthCheck::RunTimers(absl::Time now) {
  absl::Time next = absl::InfiniteFuture();
  for (auto& entry : tablets_) {
    Entry& e = *entry.second;
    if (e.stream == nullptr && !e.mismatch && e.retry_at <= now) {
      if (options_.fresh_connection_after > 0 &&
          e.failed_attempts >= options_.fresh_connection_after) {
        e.conn = Connect(e.address);
        Publish(e, [&e](TabletHealth& h) { h.conn = e.conn; });
      }
      OpenStream(e, now);
    }
    if (e.stream != nullptr && now - e.quiet_since >= options_.health_timeout) {
      CloseStream(e);
      ++stats_.stream_errors;
      StreamDown(e,
                 absl::StrCat("no health message for ",
                              absl::FormatDuration(options_.health_timeout)),
                 /*retry=*/true, now);
    }
    if (e.stream != nullptr) next = std::min(next, e.quiet_since + options_.health_timeout);
    if (e.stream == nullptr && !e.mismatch) next = std::min(next, e.retry_at);
  }
  return next;
}

void HealthCheck::Loop() {
  for (;;) {
    std::deque<TabletHealthPtr> notifications;
    std::vector<std::shared_ptr<HealthStream>> dead;
    {
      absl::MutexLock l(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || timers_changed_ || !notifications_.empty() || !graveyard_.empty();
      };
      timers_changed_ = false;
      mu_.AwaitWithDeadline(absl::Condition(&wake), next_timer_);
      if (stopping_) return;
      const absl::Time now = absl::Now();
      if (now >= next_timer_) next_timer_ = RunTimers(now);
      notifications.swap(notifications_);
      dead.swap(graveyard_);
    }
    dead.clear();
    FlushStreams();
    for (const TabletHealthPtr& h : notifications) subscribers_.Notify(h);
  }
}

void HealthCheck::FlushStreams() {
  std::vector<StreamCall> calls;
  {
    absl::MutexLock l(&mu_);
    if (stream_calls_.empty()) return;
    calls.swap(stream_calls_);
  }
  for (const StreamCall& call : calls) {
    if (call.start) {
      call.stream->Start();
    } else {
      call.stream->Cancel();
    }
  }
  // This may be a gRPC thread: let the HealthCheck's thread drop them.
  absl::MutexLock l(&mu_);
  for (StreamCall& call : calls) graveyard_.push_back(std::move(call.stream));
}

TabletList HealthCheck::GetHealthy(absl::string_view keyspace, absl::string_view shard,
                                   topodata::TabletType type) const {
  return cache_.Serving({std::string(keyspace), std::string(shard), type});
}

absl::StatusOr<TabletHealthPtr> HealthCheck::GetPrimary(absl::string_view keyspace,
                                                        absl::string_view shard) const {
  HealthCache::PrimaryInfo info = cache_.GetPrimaryInfo(keyspace, shard);
  if (info.primary != nullptr) return info.primary;
  const TargetKey key{std::string(keyspace), std::string(shard), topodata::PRIMARY};
  std::string why = "no tablet claims PRIMARY";
  if (info.newest_term > 0 || !cache_.All(key)->empty()) {
    TabletHealthPtr claimer = Get(info.claimer);
    why = absl::StrCat("the newest term ", info.newest_term, " was claimed by ",
                       info.claimer.ToString(), ", which ",
                       claimer == nullptr ? "is no longer known"
                                          : absl::StrCat("is ", claimer->DebugString()));
  }
  return absl::UnavailableError(
      absl::StrCat("no serving PRIMARY tablet for ", keyspace, "/", shard, ": ", why));
}

std::vector<TabletHealthPtr> HealthCheck::GetAll() const {
  absl::MutexLock l(&mu_);
  std::vector<TabletHealthPtr> all;
  all.reserve(tablets_.size());
  for (const auto& entry : tablets_) all.push_back(entry.second->health);
  return all;
}

TabletHealthPtr HealthCheck::Get(const topo::TabletAlias& alias) const {
  absl::MutexLock l(&mu_);
  auto it = tablets_.find(alias);
  return it == tablets_.end() ? nullptr : it->second->health;
}

int HealthCheck::Subscribe(std::function<void(const TabletHealthPtr&)> cb) {
  return subscribers_.Add(std::move(cb));
}

void HealthCheck::Unsubscribe(int id) { subscribers_.Remove(id); }

absl::Status HealthCheck::WaitForTablets(absl::string_view keyspace, absl::string_view shard,
                                         topodata::TabletType type, int n,
                                         absl::Duration timeout) const {
  const TargetKey key{std::string(keyspace), std::string(shard), type};
  auto enough = [this, &key, n]() { return static_cast<int>(cache_.Serving(key)->size()) >= n; };
  absl::MutexLock l(&mu_);
  if (mu_.AwaitWithTimeout(absl::Condition(&enough), timeout)) return absl::OkStatus();
  TabletList all = cache_.All(key);
  std::string seen = absl::StrCat(cache_.Serving(key)->size(), " serving of ", all->size());
  for (const TabletHealthPtr& h : *all) absl::StrAppend(&seen, "; ", h->DebugString());
  return absl::DeadlineExceededError(absl::StrCat("waited ", absl::FormatDuration(timeout),
                                                  " for ", n, " serving ", key.ToString(),
                                                  " tablets: ", seen));
}

HealthCheckStats HealthCheck::Stats() const {
  absl::MutexLock l(&mu_);
  HealthCheckStats s = stats_;
  s.tablets = static_cast<int64_t>(tablets_.size());
  s.streams_open = 0;
  for (const auto& entry : tablets_) s.streams_open += entry.second->health->stream_up ? 1 : 0;
  return s;
}

}  // namespace shale::discovery
