#include "tablet/serving_primary.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "spdlog/spdlog.h"
#include "tablet/client/resharded.h"

namespace shale::tablet {
namespace {

// How often a waiting auto-thaw retries an unreadable topology, and how
// often a resharded drain hands the error to writes that reached the gate.
constexpr absl::Duration kTopoRetry = absl::Seconds(1);
constexpr absl::Duration kDrainTick = absl::Milliseconds(5);

}  // namespace

bool ServesPrimary(const topodata::Shard& shard) {
  for (const auto& st : shard.served_types()) {
    if (st.tablet_type() == topodata::PRIMARY) return true;
  }
  return false;
}

ServingPrimary::Ticket& ServingPrimary::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void ServingPrimary::Ticket::Release() {
  if (owner_ != nullptr) owner_->Return();
  owner_ = nullptr;
}

ServingPrimary::ServingPrimary(topo::Server* ts, std::string keyspace, std::string shard,
                               Leadership* leadership, engine::WriteGate* gate)
    : ts_(ts),
      keyspace_(std::move(keyspace)),
      shard_(std::move(shard)),
      leadership_(leadership),
      gate_(gate) {
  thread_ = std::thread([this] { Loop(); });
}

ServingPrimary::~ServingPrimary() { Stop(); }

void ServingPrimary::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool ServingPrimary::ServesLocked() const { return record_serves_ && !resharded_ahead_of_record_; }

bool ServingPrimary::serves_primary() const {
  absl::MutexLock lock(&mu_);
  return ServesLocked();
}

bool ServingPrimary::frozen() const {
  absl::MutexLock lock(&mu_);
  return frozen_;
}

void ServingPrimary::SetRecordDeniedLocked(const topodata::Shard& shard) {
  absl::flat_hash_set<std::string> denied;
  for (const std::string& t : shard.denied_tables()) denied.insert(absl::AsciiStrToLower(t));
  for (const std::string& t : denied) ahead_denied_.erase(t);
  if (denied != record_denied_) {
    std::vector<std::string> sorted(denied.begin(), denied.end());
    std::sort(sorted.begin(), sorted.end());
    spdlog::info("{}/{}: denied tables of the Shard record: [{}]", keyspace_, shard_,
                 absl::StrJoin(sorted, ", "));
  }
  record_denied_ = std::move(denied);
  UpdateAnyDeniedLocked();
}

bool ServingPrimary::DeniedLocked(const std::string& lower) const {
  return record_denied_.contains(lower) || ahead_denied_.contains(lower);
}

void ServingPrimary::UpdateAnyDeniedLocked() {
  any_denied_.store(!record_denied_.empty() || !ahead_denied_.empty());
}

absl::Status ServingPrimary::CheckTables(const std::vector<std::string>& tables) const {
  if (tables.empty() || !any_denied_.load()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  for (const std::string& t : tables) {
    if (DeniedLocked(absl::AsciiStrToLower(t))) return MovedTableError(keyspace_, shard_, t);
  }
  return absl::OkStatus();
}

void ServingPrimary::OnShardRecord(const topodata::Shard& shard) {
  const bool serves = ServesPrimary(shard);
  absl::MutexLock lock(&mu_);
  const bool before = ServesLocked();
  record_serves_ = serves;
  have_record_ = true;
  SetRecordDeniedLocked(shard);
  // A record without PRIMARY is the flip a resharded thaw announced; one
  // with PRIMARY after it (ReverseTraffic) serves again.
  if (!serves) resharded_ahead_of_record_ = false;
  if (before != ServesLocked()) {
    spdlog::info("{}/{} {} primary traffic (Shard record served_types)", keyspace_, shard_,
                 ServesLocked() ? "serves" : "no longer serves");
  }
}

absl::StatusOr<ServingPrimary::Ticket> ServingPrimary::Admit(const Target& target) {
  if (target.tablet_type() != topodata::PRIMARY) return Ticket();
  absl::MutexLock lock(&mu_);
  if (!have_record_) {
    return absl::UnavailableError(absl::StrCat("the Shard record of ", keyspace_, "/", shard_,
                                               " is not read yet; retry"));
  }
  if (!ServesLocked()) return ReshardedError(keyspace_, shard_);
  ++admitted_;
  return Ticket(this);
}

void ServingPrimary::Return() {
  absl::MutexLock lock(&mu_);
  --admitted_;
}

absl::StatusOr<LogPosition> ServingPrimary::Freeze(absl::Duration max_freeze,
                                                   absl::Duration grace,
                                                   absl::Duration flush_timeout) {
  bool was_draining;
  {
    // A drain still running after a resharded thaw holds the gate frozen;
    // this freeze takes it over.
    absl::MutexLock lock(&mu_);
    was_draining = draining_;
    draining_ = false;
  }
  absl::StatusOr<LogPosition> position = leadership_->FreezeWrites(
      grace, flush_timeout,
      absl::StrCat(keyspace_, "/", shard_,
                   " is switching its primary traffic to other shards (resharding)"));
  absl::MutexLock lock(&mu_);
  if (!position.ok()) {
    if (was_draining) draining_ = true;
    return position.status();
  }
  frozen_ = true;
  ++freeze_epoch_;
  thaw_at_ = absl::Now() + max_freeze;
  spdlog::info("{}/{}: writes frozen for a resharding switch at log entry {} (auto-thaw in {})",
               keyspace_, shard_, position->seq(), absl::FormatDuration(max_freeze));
  return *position;
}

void ServingPrimary::Thaw(bool resharded, const std::vector<std::string>& denied_tables) {
  absl::MutexLock lock(&mu_);
  for (const std::string& t : denied_tables) {
    std::string lower = absl::AsciiStrToLower(t);
    if (DeniedLocked(lower)) continue;
    spdlog::info("{}/{}: table {} denied by ThawWrites (ahead of the Shard record)", keyspace_,
                 shard_, t);
    ahead_denied_.insert(std::move(lower));
  }
  UpdateAnyDeniedLocked();
  ThawLocked(resharded);
}

void ServingPrimary::ThawLocked(bool resharded) {
  const bool was_frozen = frozen_;
  frozen_ = false;
  ++freeze_epoch_;
  thaw_at_ = absl::InfiniteFuture();
  if (!resharded && ServesLocked()) {
    draining_ = false;
    if (was_frozen) spdlog::info("{}/{}: writes thawed; they go on here", keyspace_, shard_);
    gate_->Thaw();
    return;
  }
  if (record_serves_) resharded_ahead_of_record_ = true;
  spdlog::info("{}/{}: thawed as resharded; primary statements get the resharded error",
               keyspace_, shard_);
  // Only a gate this class froze is drained: a tablet that was never frozen
  // has nothing waiting (and a migration may own the gate).
  if (was_frozen || draining_) {
    gate_->Release(ReshardedError(keyspace_, shard_));
    draining_ = true;
  }
}

void ServingPrimary::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (!have_record_) {
      // Normally the Shard watch delivers it before the tablet serves.
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](ServingPrimary* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                 return self->have_record_ || self->stopping_;
                               },
                               this),
                           kTopoRetry);
      if (have_record_ || stopping_) continue;
      mu_.Unlock();
      absl::StatusOr<topo::ShardInfo> shard = ts_->GetShard(keyspace_, shard_);
      mu_.Lock();
      if (shard.ok() && !have_record_) {
        record_serves_ = ServesPrimary(shard->record);
        have_record_ = true;
        SetRecordDeniedLocked(shard->record);
      }
      continue;
    }
    if (draining_) {
      if (admitted_ == 0) {
        // Every statement admitted before the mark is gone: what still
        // reaches the gate is not primary traffic (ExecuteFetchAsDba).
        draining_ = false;
        gate_->Thaw();
        continue;
      }
      gate_->Release(ReshardedError(keyspace_, shard_));
      auto changed = [this, seen = admitted_]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !draining_ || admitted_ != seen;
      };
      mu_.AwaitWithTimeout(absl::Condition(&changed), kDrainTick);
      continue;
    }
    if (frozen_ && absl::Now() >= thaw_at_) {
      const int64_t epoch = freeze_epoch_;
      absl::StatusOr<topo::ShardInfo> shard;
      mu_.Unlock();
      shard = ts_->GetShard(keyspace_, shard_);
      mu_.Lock();
      if (epoch != freeze_epoch_ || !frozen_) continue;  // thawed or frozen again meanwhile
      if (!shard.ok()) {
        spdlog::warn("{}/{}: auto-thaw cannot read the Shard record ({}); writes stay frozen",
                     keyspace_, shard_, shard.status().ToString());
        thaw_at_ = absl::Now() + kTopoRetry;
        continue;
      }
      record_serves_ = ServesPrimary(shard->record);
      if (!record_serves_) resharded_ahead_of_record_ = false;
      SetRecordDeniedLocked(shard->record);
      spdlog::warn("{}/{}: no ThawWrites in time; auto-thaw: the Shard record {} PRIMARY",
                   keyspace_, shard_, record_serves_ ? "still serves" : "no longer serves");
      ThawLocked(/*resharded=*/!record_serves_);
      continue;
    }
    auto wake = [this, seen = freeze_epoch_]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || draining_ || freeze_epoch_ != seen ||
             (frozen_ && absl::Now() >= thaw_at_);
    };
    const absl::Duration wait =
        frozen_ ? std::max(thaw_at_ - absl::Now(), absl::ZeroDuration()) : absl::Hours(1);
    mu_.AwaitWithTimeout(absl::Condition(&wake), wait);
  }
}

}  // namespace shale::tablet
