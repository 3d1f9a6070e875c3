#pragma once

// AckTracker: the replicas streaming from this tablet and how far each has
// durably applied (their StreamLog acknowledgements). Semi-sync commits wait
// here for one semi-sync follower to pass their seq; the planned migration
// waits here for the candidate to acknowledge CHANGE_CONFIG.
//
// Owned by the ReplicationService. Thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replication_data.pb.h"

namespace shale::tablet::replication {

class AckTracker {
 public:
  AckTracker() = default;
  AckTracker(const AckTracker&) = delete;
  AckTracker& operator=(const AckTracker&) = delete;

  // A stream opened; returns its id for Ack and Unregister.
  int64_t Register(const topodata::TabletAlias& alias, bool semi_sync, int64_t acked_seq);
  void Ack(int64_t id, int64_t seq);
  void Unregister(int64_t id);

  // Waits until a semi-sync follower acknowledged seq. DeadlineExceeded when
  // none did before deadline.
  absl::Status WaitForSemiSyncAck(int64_t seq, absl::Time deadline) const;
  // Waits until the follower `alias` acknowledged seq.
  absl::Status WaitForAckFrom(const std::string& alias, int64_t seq, absl::Time deadline) const;

  // The highest seq any semi-sync follower acknowledged, connected now or
  // not (what it acknowledged it holds durably), and at least the floor: on a
  // semi-sync primary, the entries up to here survive a failover (change
  // subscriptions send no further). WaitSemiSyncPast waits until it is >
  // after or deadline.
  int64_t semi_sync_acked() const;
  // A tablet becoming primary: the entries it already holds (written in
  // earlier terms, which it received as a replica) count as acknowledged.
  void ResetSemiSyncFloor(int64_t seq);
  int64_t WaitSemiSyncPast(int64_t after, absl::Time deadline) const;

  std::vector<ReplicationStatus::Follower> Followers() const;
  int semi_sync_followers() const;

 private:
  struct Follower {
    topodata::TabletAlias alias;
    std::string alias_string;
    bool semi_sync = false;
    int64_t acked = 0;
  };

  mutable absl::Mutex mu_;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<int64_t, Follower> followers_ ABSL_GUARDED_BY(mu_);
  // Acks of followers that disconnected stay known (for WaitForAckFrom).
  absl::flat_hash_map<std::string, int64_t> last_ack_ ABSL_GUARDED_BY(mu_);
  int64_t semi_sync_high_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shale::tablet::replication
