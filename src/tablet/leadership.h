#pragma once

// Leadership: how a tablet becomes, stops being, and hands over the primary
// role of its shard (DESIGN §4), in the TN-migration seed's vocabulary:
//
//  - Promote (PromoteReplica: first election and emergency reparent): the
//    caller wrote the Shard record; the tablet stops following, appends
//    CHANGE_CONFIG(term, itself), switches to write mode and announces it.
//  - Migrate (MigratePrimary, on the current primary): freeze the write queue
//    (the WriteGate: new writes and new interactive transactions wait, none
//    fails); give open interactive transactions a grace period, then roll the
//    rest back with 40001; flush the commit queue (every admitted write and
//    its semi-sync acknowledgement finishes); switch to read-only mode;
//    append CHANGE_CONFIG(term+1, candidate); wait for the candidate to
//    acknowledge it (it acknowledges only once it wrote the Shard record and
//    switched to write mode: OnChangeConfig); then become the candidate's
//    replica and open the tunnel: the writes that waited, and any that still
//    arrive here for the primary, are forwarded to the new primary.
//  - OnChangeConfig (replica side, on the stream thread): a CHANGE_CONFIG
//    naming this tablet promotes it (Shard record first, then write mode); one
//    naming another tablet moves the tunnel there.
//  - Demote (DemotePrimary): read-only REPLICA at once.
//
// Owned by the TabletServer; everything it points at is borrowed from it and
// outlives it. Thread-safe: migrations and promotions are serialised by mu_.

#include <atomic>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tablet/client/tablet_client.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/write_gate.h"
#include "tablet/replication/replication_manager.h"
#include "tablet/state_manager.h"
#include "topo/server.h"

namespace shale::tablet {

// The status a write gets when it waited through a migration and must be
// forwarded through the tunnel (FailedPrecondition with this payload).
absl::Status MovedStatus();
bool IsMoved(const absl::Status& status);

class Leadership {
 public:
  Leadership(topo::Server* ts, StateManager* state, engine::Engine* engine,
             replication::ReplicationManager* replication, engine::WriteGate* gate);
  Leadership(const Leadership&) = delete;
  Leadership& operator=(const Leadership&) = delete;

  // Aligns replication with the state at startup: a PRIMARY writes with its
  // term (appending CHANGE_CONFIG if its log has not recorded the term yet);
  // anything else follows the shard's primary.
  absl::Status StartRole();

  // FailedPrecondition if this tablet is already the primary with another
  // term, or term is not newer than every term it knows.
  absl::StatusOr<LogPosition> Promote(int64_t term);
  absl::StatusOr<MigratePrimaryResponse> Migrate(const MigratePrimaryRequest& request);
  // The freeze that begins a migration, for the resharding switch
  // (FreezeWrites, serving_primary.h): on the primary only, freezes the write
  // queue, rolls back what is still open after grace (40001, naming why) and
  // flushes the admitted writes (up to timeout; else the gate thaws and
  // DeadlineExceeded). Answers the log position after the last of them. The
  // gate stays frozen: the caller thaws it; a migration is refused meanwhile.
  absl::StatusOr<LogPosition> FreezeWrites(absl::Duration grace, absl::Duration timeout,
                                           absl::string_view why);
  absl::StatusOr<LogPosition> Demote();
  // RefreshState and the Shard record: demoted by a newer primary → follow it.
  void AfterStateChange();
  // The replication manager's ChangeConfigHandler.
  bool OnChangeConfig(const ChangeConfig& cc, const LogPosition& position);
  // The replication manager's ShardRecordHandler: a primary that sees a newer
  // primary in the Shard record demotes itself and follows it (fencing for a
  // primary that was paused or cut off). Ignored during a migration, which
  // changes the role itself.
  void OnShardRecord(const topodata::Shard& shard);

  // Where primary traffic goes after this tablet handed over; null if none.
  std::shared_ptr<TabletClient> tunnel() const;
  void CountForwarded() { forwarded_.fetch_add(1); }
  int64_t forwarded() const { return forwarded_.load(); }

 private:
  absl::Status WriteShardRecord(int64_t term, absl::Time start);
  void OpenTunnel(const topodata::TabletAlias& to);
  absl::StatusOr<MigratePrimaryResponse> MigrateLocked(const MigratePrimaryRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Freeze, grace period, rollback with 40001 ("... because <why> ..."),
  // flush; shared by Migrate and FreezeWrites. Returns how many transactions
  // were rolled back; on a flush timeout thaws and returns DeadlineExceeded.
  absl::StatusOr<int> FreezeAndFlushLocked(absl::Duration grace, absl::Duration timeout,
                                           absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  topo::Server* const ts_;
  StateManager* const state_;
  engine::Engine* const engine_;
  replication::ReplicationManager* const replication_;
  engine::WriteGate* const gate_;
  std::atomic<int64_t> forwarded_{0};
  std::atomic<bool> migrating_{false};

  mutable absl::Mutex mu_;  // serialises promotions and migrations
  mutable absl::Mutex tunnel_mu_;
  std::shared_ptr<TabletClient> tunnel_ ABSL_GUARDED_BY(tunnel_mu_);
};

}  // namespace shale::tablet
