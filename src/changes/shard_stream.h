#pragma once

// ShardStream: one shard's part of a change subscription (issue 9). It opens
// the tablet's Changes.Subscribe from the last delivered position, hands the
// events to its sink in commit order, and when the stream ends for any
// reason (tablet killed, demoted or unreachable, a hand-over's moved_to, a
// tablet's error) it reconnects from the last delivered position, with
// backoff, re-resolving the tablet from the topology (tablet_resolver.h), for
// as long as the subscription lives. After a moved_to notice the next
// connect goes to the named tablet first. Events at or before the last
// delivered position are dropped, so none is delivered twice.
//
// Only unrecoverable errors end Run(): the keyspace or shard is gone
// (NotFound), or the position is refused (purged: OUT_OF_RANGE, diverged:
// FAILED_PRECONDITION "diverged...", DATA_LOSS, INVALID_ARGUMENT) on every candidate, repeatedly;
// the error names the position.
//
// Lifecycle: construct, Run() on one thread (blocks), Cancel() from any
// other thread to end it. The sink is called on the Run() thread; it may
// block (then the stream stops reading: gRPC flow control), and returning
// false ends Run(). Owned by a Subscription (or a test).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "change_data.pb.h"
#include "changes/tablet_resolver.h"
#include "grpcpp/client_context.h"
#include "topo/server.h"

namespace shale::changes {

struct ShardStreamOptions {
  std::string keyspace;
  std::string shard;
  topodata::TabletType tablet_type = topodata::PRIMARY;  // or REPLICA
  std::vector<std::string> tables;                       // empty: every table
  int heartbeat_ms = 0;                                  // 0: the tablet's default (1 s)
  absl::Duration backoff_initial = absl::Milliseconds(20);
  absl::Duration backoff_max = absl::Seconds(1);
  // Consecutive refusals of the position (on as many candidates, at least)
  // before the subscription gives up.
  int max_position_errors = 3;
};

// Whether a tablet's status refuses the position itself (purged, diverged,
// malformed) rather than the moment (not serving, unreachable, moved).
bool IsPositionError(const absl::Status& status);

// The shard's current position on the tablet a stream would use: its newest
// committed (or applied) entry, row 0. What "from now" means: resolving it
// up front gives every shard a resumable position before any event.
// Unavailable while no tablet answers; NotFound when the keyspace is gone.
absl::StatusOr<tablet::ChangePosition> CurrentShardPosition(topo::Server& ts,
                                                            const ShardStreamOptions& options);

class ShardStream {
 public:
  using Sink = std::function<bool(std::vector<tablet::ChangeEvent> events)>;

  // ts is borrowed and must outlive Run(). from: the position delivered
  // already (events after it come first).
  ShardStream(topo::Server* ts, ShardStreamOptions options, tablet::ChangePosition from, Sink sink);

  // See the class comment. OkStatus after Cancel() or a sink refusal.
  absl::Status Run();
  void Cancel();

  tablet::ChangePosition position() const;  // the last delivered
  int64_t connects() const;                 // Subscribe calls opened so far

 private:
  // One Subscribe call to target; the status that ended it (OkStatus when
  // cancelled or refused by the sink). Sets *moved_to from a notice and
  // *received when anything arrived.
  absl::Status StreamFrom(const TabletTarget& target, std::optional<topo::TabletAlias>* moved_to,
                          bool* received);
  // The events of one response that come after the last delivered position.
  std::vector<tablet::ChangeEvent> Fresh(
      google::protobuf::RepeatedPtrField<tablet::ChangeEvent>* in);
  bool cancelled() const;
  // Waits d unless cancelled first.
  void Pause(absl::Duration d);

  topo::Server* const ts_;
  const ShardStreamOptions options_;
  const Sink sink_;
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  tablet::ChangePosition last_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;  // the open call, if any
  int64_t connects_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shale::changes
