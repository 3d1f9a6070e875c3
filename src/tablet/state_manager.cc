#include "tablet/state_manager.h"

#include "absl/strings/str_cat.h"
#include "tablet/proto_time.h"
#include "spdlog/spdlog.h"
#include "topo/tablet_alias.h"

namespace shale::tablet {
namespace {

bool SameAlias(const topodata::TabletAlias& a, const topodata::TabletAlias& b) {
  return a.cell() == b.cell() && a.uid() == b.uid();
}

}  // namespace

bool IsServingType(topodata::TabletType type) {
  return type == topodata::PRIMARY || type == topodata::REPLICA || type == topodata::RDONLY;
}

StateManager::StateManager(topodata::Tablet record, engine::Engine* engine,
                           RecordPublisher* publisher)
    : engine_(engine), publisher_(publisher), record_(std::move(record)) {}

void StateManager::Start() {
  absl::MutexLock l(&mu_);
  read_only_ = record_.type() != topodata::PRIMARY;
  ChangedLocked();
}

void StateManager::ChangedLocked() {
  if (engine_ != nullptr) engine_->SetReadOnly(read_only_);
  ++generation_;
  if (publisher_ != nullptr) publisher_->Publish(record_);
}

StateSnapshot StateManager::Snapshot() const {
  absl::MutexLock l(&mu_);
  StateSnapshot s;
  s.record = record_;
  s.serving = IsServingType(record_.type());
  s.read_only = read_only_;
  s.generation = generation_;
  return s;
}

topodata::TabletType StateManager::type() const {
  absl::MutexLock l(&mu_);
  return record_.type();
}

int64_t StateManager::WaitForChange(int64_t seen, absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return generation_ != seen;
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return generation_;
}

absl::Status StateManager::ChangeType(topodata::TabletType type) {
  if (type == topodata::UNKNOWN || !topodata::TabletType_IsValid(type)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid tablet type ", static_cast<int>(type)));
  }
  absl::MutexLock l(&mu_);
  const topodata::TabletType old = record_.type();
  if (old == type) return absl::OkStatus();
  if (type == topodata::PRIMARY || old == topodata::PRIMARY) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot change tablet type from ", topodata::TabletType_Name(old), " to ",
        topodata::TabletType_Name(type),
        ": a change of primary is a reparent (PlannedReparentShard), not ChangeTabletType"));
  }
  record_.set_type(type);
  read_only_ = true;
  spdlog::info("tablet type changed from {} to {}", topodata::TabletType_Name(old),
               topodata::TabletType_Name(type));
  ChangedLocked();
  return absl::OkStatus();
}

absl::Status StateManager::SetReadOnly() {
  absl::MutexLock l(&mu_);
  if (read_only_) return absl::OkStatus();
  read_only_ = true;
  spdlog::info("tablet set read-only");
  ChangedLocked();
  return absl::OkStatus();
}

absl::Status StateManager::SetReadWrite() {
  absl::MutexLock l(&mu_);
  if (record_.type() != topodata::PRIMARY) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot set a ", topodata::TabletType_Name(record_.type()),
                     " tablet read-write: only the primary takes writes"));
  }
  if (!read_only_) return absl::OkStatus();
  read_only_ = false;
  spdlog::info("tablet set read-write");
  ChangedLocked();
  return absl::OkStatus();
}

bool StateManager::ApplyShardRecord(const topodata::Shard& shard) {
  absl::MutexLock l(&mu_);
  if (record_.type() != topodata::PRIMARY) return false;
  const bool names_me = shard.has_primary_alias() && SameAlias(shard.primary_alias(), record_.alias());
  if (names_me) {
    if (shard.primary_term() == record_.primary_term() &&
        shard.primary_term_start_time().SerializeAsString() ==
            record_.primary_term_start_time().SerializeAsString()) {
      return false;
    }
    record_.set_primary_term(shard.primary_term());
    *record_.mutable_primary_term_start_time() = shard.primary_term_start_time();
    ChangedLocked();
    return true;
  }
  const bool other_primary = shard.has_primary_alias() && !shard.primary_alias().cell().empty();
  if (other_primary && shard.primary_term() >= record_.primary_term()) {
    spdlog::warn("shard record names primary {} with term {} (ours: {}); demoting to REPLICA",
                 topo::TabletAlias::FromProto(shard.primary_alias()).ToString(),
                 shard.primary_term(), record_.primary_term());
    record_.set_type(topodata::REPLICA);
    read_only_ = true;
    ChangedLocked();
    return true;
  }
  return false;
}

void StateManager::BecomePrimary(int64_t term, absl::Time term_start) {
  absl::MutexLock l(&mu_);
  record_.set_type(topodata::PRIMARY);
  record_.set_primary_term(term);
  *record_.mutable_primary_term_start_time() = ToProtoTime(term_start);
  read_only_ = false;
  ChangedLocked();
}

void StateManager::BecomeReplica() {
  absl::MutexLock l(&mu_);
  if (record_.type() != topodata::PRIMARY) return;
  record_.set_type(topodata::REPLICA);
  read_only_ = true;
  spdlog::info("tablet demoted from PRIMARY to REPLICA");
  ChangedLocked();
}

void StateManager::SetHealthError(const std::string& error) {
  absl::MutexLock l(&mu_);
  if (health_error_ == error) return;
  health_error_ = error;
  ++generation_;
}

std::string StateManager::health_error() const {
  absl::MutexLock l(&mu_);
  return health_error_;
}

}  // namespace shale::tablet
