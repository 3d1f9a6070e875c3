#include "tablet/replication/position_tracker.h"

namespace shale::tablet::replication {

void PositionTracker::Advance(const LogPosition& position) {
  absl::MutexLock lock(&mu_);
  if (position.seq() <= position_.seq()) return;
  position_ = position;
  last_change_ = absl::Now();
}

void PositionTracker::Reset(const LogPosition& position) {
  absl::MutexLock lock(&mu_);
  position_ = position;
  last_change_ = absl::Now();
}

LogPosition PositionTracker::Get() const {
  absl::MutexLock lock(&mu_);
  return position_;
}

int64_t PositionTracker::seq() const {
  absl::MutexLock lock(&mu_);
  return position_.seq();
}

LogPosition PositionTracker::WaitPast(int64_t after, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto past = [this, after]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return position_.seq() > after;
  };
  mu_.AwaitWithDeadline(absl::Condition(&past), deadline);
  return position_;
}

bool PositionTracker::WaitFor(int64_t target, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return position_.seq() >= target;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
}

absl::Time PositionTracker::last_change() const {
  absl::MutexLock lock(&mu_);
  return last_change_;
}

}  // namespace shale::tablet::replication
