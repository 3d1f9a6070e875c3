#pragma once

// PositionTracker: the tablet's newest durable log entry, and waiting for it
// to move. The LogWriter advances it after each commit on a primary, the
// Applier after each applied batch on a replica; StreamLog senders,
// WaitForPosition and the health stream wait on it.
//
// Owned by the ReplicationService (one per tablet). Thread-safe.

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication_data.pb.h"

namespace shale::tablet::replication {

class PositionTracker {
 public:
  PositionTracker() = default;
  PositionTracker(const PositionTracker&) = delete;
  PositionTracker& operator=(const PositionTracker&) = delete;

  // Sets the position (it only moves forward, except through Reset).
  void Advance(const LogPosition& position);
  // Replaces the position (after a clone replaced the database).
  void Reset(const LogPosition& position);
  LogPosition Get() const;
  int64_t seq() const;

  // Waits until the position's seq is > after (or deadline); returns it.
  LogPosition WaitPast(int64_t after, absl::Time deadline) const;
  // Waits until seq >= target or deadline; true when reached.
  bool WaitFor(int64_t target, absl::Time deadline) const;

  // When the last entry was committed here (primary) or applied (replica).
  absl::Time last_change() const;

 private:
  mutable absl::Mutex mu_;
  LogPosition position_ ABSL_GUARDED_BY(mu_);
  absl::Time last_change_ ABSL_GUARDED_BY(mu_) = absl::Now();
};

}  // namespace shale::tablet::replication
