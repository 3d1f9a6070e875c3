#include "tablet/replication/ack_tracker.h"

#include "absl/strings/str_cat.h"
#include "topo/tablet_alias.h"

namespace shale::tablet::replication {

int64_t AckTracker::Register(const topodata::TabletAlias& alias, bool semi_sync,
                             int64_t acked_seq) {
  absl::MutexLock lock(&mu_);
  const int64_t id = next_id_++;
  Follower& f = followers_[id];
  f.alias = alias;
  f.alias_string = topo::TabletAlias::FromProto(alias).ToString();
  f.semi_sync = semi_sync;
  f.acked = acked_seq;
  int64_t& last = last_ack_[f.alias_string];
  last = std::max(last, acked_seq);
  if (semi_sync) semi_sync_high_ = std::max(semi_sync_high_, acked_seq);
  return id;
}

void AckTracker::Ack(int64_t id, int64_t seq) {
  absl::MutexLock lock(&mu_);
  auto it = followers_.find(id);
  if (it == followers_.end()) return;
  it->second.acked = std::max(it->second.acked, seq);
  int64_t& last = last_ack_[it->second.alias_string];
  last = std::max(last, seq);
  if (it->second.semi_sync) semi_sync_high_ = std::max(semi_sync_high_, seq);
}

void AckTracker::Unregister(int64_t id) {
  absl::MutexLock lock(&mu_);
  followers_.erase(id);
}

absl::Status AckTracker::WaitForSemiSyncAck(int64_t seq, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto acked = [this, seq]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& [id, f] : followers_) {
      if (f.semi_sync && f.acked >= seq) return true;
    }
    return false;
  };
  if (mu_.AwaitWithDeadline(absl::Condition(&acked), deadline)) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat("no semi-sync replica acknowledged log entry ", seq, " in time"));
}

absl::Status AckTracker::WaitForAckFrom(const std::string& alias, int64_t seq,
                                        absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto acked = [this, &alias, seq]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = last_ack_.find(alias);
    return it != last_ack_.end() && it->second >= seq;
  };
  if (mu_.AwaitWithDeadline(absl::Condition(&acked), deadline)) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat("tablet ", alias, " did not acknowledge log entry ", seq, " in time"));
}

void AckTracker::ResetSemiSyncFloor(int64_t seq) {
  absl::MutexLock lock(&mu_);
  semi_sync_high_ = seq;
}

int64_t AckTracker::semi_sync_acked() const {
  absl::MutexLock lock(&mu_);
  return semi_sync_high_;
}

int64_t AckTracker::WaitSemiSyncPast(int64_t after, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto past = [this, after]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return semi_sync_high_ > after; };
  mu_.AwaitWithDeadline(absl::Condition(&past), deadline);
  return semi_sync_high_;
}

std::vector<ReplicationStatus::Follower> AckTracker::Followers() const {
  absl::MutexLock lock(&mu_);
  std::vector<ReplicationStatus::Follower> out;
  for (const auto& [id, f] : followers_) {
    ReplicationStatus::Follower p;
    *p.mutable_alias() = f.alias;
    p.set_acked_seq(f.acked);
    p.set_semi_sync(f.semi_sync);
    out.push_back(std::move(p));
  }
  return out;
}

int AckTracker::semi_sync_followers() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [id, f] : followers_) n += f.semi_sync ? 1 : 0;
  return n;
}

}  // namespace shale::tablet::replication
