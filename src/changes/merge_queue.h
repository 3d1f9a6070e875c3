#pragma once

// MergeQueue: the bounded queue where a Subscription's shard streams meet
// (issue 9). Each shard stream pushes its events; the queue stamps each one
// with the keyspace position after it (that shard's position replaced in the
// position of everything queued before) and the consumer pops them in that
// order. Bound: max_events and max_bytes (a push is let in while the queue is
// under both, so one batch may overshoot). A push into a full queue waits; if
// the queue is still full after stall_timeout, the consumer is too slow: the
// queue drops what it holds and ends with RESOURCE_EXHAUSTED naming the
// position of the last event the consumer took, to resume from. Waiting
// pushers never hold anything a commit needs: the shard streams simply stop
// reading (gRPC flow control).
//
// Owned by the Subscription; thread-safe (shard threads push, the consumer
// pops, anyone may Close).

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "change_data.pb.h"
#include "changes/keyspace_position.h"

namespace shale::changes {

// One event of the merged stream.
struct MergedEvent {
  std::string shard;
  std::string position;  // the keyspace position after this event (KeyspacePosition text)
  tablet::ChangeEvent event;
};

struct MergeQueueOptions {
  size_t max_events = 10000;
  size_t max_bytes = 64 << 20;
  absl::Duration stall_timeout = absl::Seconds(10);
};

class MergeQueue {
 public:
  // start: every shard's position before the first event.
  MergeQueue(KeyspacePosition start, MergeQueueOptions options);

  // Appends shard's events (each carrying its own ChangePosition), waiting
  // while the queue is full. False once the queue is closed (then the events
  // are dropped and the caller should stop).
  bool Push(const std::string& shard, std::vector<tablet::ChangeEvent> events);

  // Up to max events, waiting up to timeout for the first; an empty vector
  // on timeout. Once closed and drained: the closing status (CANCELLED for
  // Close(OkStatus())).
  absl::StatusOr<std::vector<MergedEvent>> Pop(size_t max, absl::Duration timeout);

  // Ends the queue with status (the first Close wins); queued events are
  // still popped unless status is the too-slow error.
  void Close(absl::Status status);

  // The position after the last event popped (or the start).
  std::string ConsumedPosition() const;
  size_t size() const;

 private:
  static size_t Bytes(const MergedEvent& e);
  bool Full() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const MergeQueueOptions options_;
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  KeyspacePosition pushed_ ABSL_GUARDED_BY(mu_);  // after the last event pushed
  std::string consumed_ ABSL_GUARDED_BY(mu_);     // after the last event popped
  std::deque<MergedEvent> events_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::changes
