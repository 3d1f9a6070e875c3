#pragma once

// ReplicationManager: one tablet's part in replication (DESIGN §4). It owns
// the log position, the followers' acknowledgements and the LogWriter (the
// engine's commit hook), and runs two threads:
//
//  - the stream thread (replica role): follows a source's log with one
//    StreamLog stream, applies each batch with its log rows in one local
//    transaction (Applier), acknowledges it, and reconnects with backoff. The
//    source is the one set by SetReplicationSource, else the writer named by
//    the last CHANGE_CONFIG applied, else the primary in the Shard record. An
//    empty replica, one whose position the source purged, and one whose log
//    diverged clone a snapshot first (clone.h). After applying a
//    CHANGE_CONFIG it calls the tablet's handler (promotion when the new
//    writer is this tablet) before acknowledging it.
//  - the PrimaryFence's ticker (primary role): a primary that was paused
//    confirms with the Shard record before it commits again.
//  - the housekeeping thread (primary role): a HEARTBEAT entry after
//    heartbeat_interval without commits, so replicas can measure lag while
//    idle; and, on every tablet, trimming the log to log_retention entries.
//
// Lifecycle: construct; hand log_writer() to EngineOptions::commit_hook; Open
// the engine; Start(engine) -> role changes -> Stop(). Owned by the
// TabletServer; the topo::Server and Engine are borrowed and outlive it.
// Thread-safe: every public method may be called from any thread.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "replication_data.pb.h"
#include "tablet/engine/engine.h"
#include "tablet/replication/ack_tracker.h"
#include "tablet/replication/log_writer.h"
#include "tablet/replication/position_tracker.h"
#include "tablet/replication/primary_fence.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::tablet::replication {

struct ReplicationOptions {
  topo::TabletAlias self;
  std::string keyspace;
  std::string shard;
  absl::Duration heartbeat_interval = absl::Seconds(1);
  int64_t log_retention = 1000000;  // entries kept; older ones are trimmed
  absl::Duration semi_sync_timeout = absl::Seconds(1);
  std::string scratch_dir;  // for clone files (the data dir)
  absl::Duration reconnect_min = absl::Milliseconds(50);
  absl::Duration reconnect_max = absl::Seconds(1);
  FenceOptions fence;  // stall_limit must stay well below ctld's failover_after
};

// Called on the stream thread after a CHANGE_CONFIG entry was applied, before
// it is acknowledged. Returns true if the tablet became the primary (the
// stream thread then stops following).
using ChangeConfigHandler = std::function<bool(const ChangeConfig&, const LogPosition&)>;
// Called on a topology thread with every new version of the Shard record.
using ShardRecordHandler = std::function<void(const topodata::Shard&)>;

class ReplicationManager {
 public:
  ReplicationManager(topo::Server* ts, ReplicationOptions options);
  ~ReplicationManager();
  ReplicationManager(const ReplicationManager&) = delete;
  ReplicationManager& operator=(const ReplicationManager&) = delete;

  LogWriter* log_writer() { return &writer_; }
  PositionTracker& position() { return position_; }
  AckTracker& acks() { return acks_; }
  PrimaryFence& fence() { return *fence_; }
  const PrimaryFence& fence() const { return *fence_; }
  const ReplicationOptions& options() const { return options_; }

  // Creates _shale_log, reads the position, starts the threads (replication
  // itself starts only with BecomeReplica / StartReplication). engine is
  // borrowed.
  // The Shard record is watched (never polled): a new primary there wakes
  // the stream thread, and on_shard_record (may be null) hears of it.
  absl::Status Start(engine::Engine* engine, ChangeConfigHandler on_change_config,
                     ShardRecordHandler on_shard_record = nullptr);
  void Stop();

  // Primary role: stop following, write entries with `term`, heartbeat.
  void BecomePrimary(int64_t term);
  // Replica role: no heartbeats; follow a source if replication is started.
  void BecomeReplica(bool start);
  bool is_primary() const;

  void SetSemiSync(bool on) { writer_.SetSemiSync(on, options_.semi_sync_timeout); }
  // Whether this tablet's acknowledgements count for semi-sync (REPLICA yes,
  // RDONLY no). Takes effect on the next connection.
  void SetAcksCount(bool on) { acks_count_.store(on); }

  // source empty (cell ""): follow the CHANGE_CONFIG writer / Shard primary.
  // FailedPrecondition if term is older than the newest known term.
  absl::Status SetSource(const topodata::TabletAlias& source, int64_t term, bool start);
  // Follows `writer`, the new primary a CHANGE_CONFIG named (as the stream
  // thread does by itself after applying one); an explicit source is dropped.
  void FollowWriter(const topodata::TabletAlias& writer);
  void StartReplication();
  // Stops following and waits until no batch is being applied.
  void StopReplication();

  // The newest term this tablet knows (log entries and promotions).
  int64_t known_term() const;
  ReplicationStatus Status() const;
  double LagSeconds() const;

  // The stream thread's current source (for the tunnel); empty cell if none.
  topodata::TabletAlias current_source() const;

 private:
  void StreamLoop();
  // One connection to a source: returns when it ends.
  absl::Status FollowOnce(const topodata::TabletAlias& source);
  absl::StatusOr<topodata::TabletAlias> ResolveSource();
  absl::Status CloneFromSource(const topodata::TabletAlias& source);
  void HousekeepingLoop();
  void WatchShard();
  void OnShardRecord(const topodata::Shard& shard);
  bool ShouldFollow() const;
  // The fence's question: does the Shard record still name this tablet?
  absl::StatusOr<FenceAnswer> ConfirmPrimary(std::string* detail);

  topo::Server* const ts_;
  const ReplicationOptions options_;
  PositionTracker position_;
  AckTracker acks_;
  LogWriter writer_{&position_, &acks_};
  std::unique_ptr<PrimaryFence> fence_;  // made in the constructor
  engine::Engine* engine_ = nullptr;     // set by Start
  std::atomic<bool> acks_count_{true};
  ChangeConfigHandler on_change_config_;
  ShardRecordHandler on_shard_record_;
  std::unique_ptr<topo::WatchHandle> shard_watch_;

  std::thread stream_thread_;
  std::thread housekeeping_thread_;

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool primary_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;   // replication started
  bool applying_ ABSL_GUARDED_BY(mu_) = false;  // a batch is being applied
  int64_t known_term_ ABSL_GUARDED_BY(mu_) = 0;
  topodata::TabletAlias explicit_source_ ABSL_GUARDED_BY(mu_);
  topodata::TabletAlias config_source_ ABSL_GUARDED_BY(mu_);  // from CHANGE_CONFIG
  topodata::TabletAlias current_source_ ABSL_GUARDED_BY(mu_);
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  LogPosition source_position_ ABSL_GUARDED_BY(mu_);
  absl::Time last_batch_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string clone_progress_ ABSL_GUARDED_BY(mu_);
  int64_t first_seq_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* stream_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;   // bumped to make the stream reconnect
  bool have_shard_ ABSL_GUARDED_BY(mu_) = false;  // shard_ is the watched record
  bool watching_ ABSL_GUARDED_BY(mu_) = false;
  topodata::Shard shard_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::tablet::replication
