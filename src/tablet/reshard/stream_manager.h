#pragma once

// StreamManager: the filtered replication streams of one tablet (issue 10,
// docs/resharding.md "Filtered replication"). While the tablet is the
// PRIMARY of a shard whose Shard record lists source_shards, it runs one
// FilteredStream (filtered_stream.h) per SourceShard: copy the source's rows
// in this shard's key range, then apply the source's changes from the copy's
// snapshot position. It stops a stream when the record drops it or the
// tablet stops being the primary (demotion, migration), and deletes the
// `_shale_reshard` state rows of uids the record no longer lists (or lists
// with another source or start position).
//
// Dormant streams (their state rows are kept): while the shard serves
// PRIMARY, those from its own keyspace (a primary switch's reverse streams
// before the flip); a stream from another keyspace with a table list
// (MoveTables) while the record's denied_tables lack one of its tables.
//
// Wake-ups, never a topology poll: OnShardRecord (the replication manager's
// Shard-record watch), the tablet's state changes (hooks.wait_for_change),
// and Sync (the SyncStreams RPC, which re-reads the record itself).
//
// VDiff (rpc_vdiff.cc) holds a stream still at one source position with
// Pause / ResumeUntil and lets it go with Resume.
//
// Lifecycle: construct, Start() (starts the control thread), Stop() (ends every stream; the destructor calls
// it). Owned by the TabletServer; ts and engine are borrowed and outlive it.
// Thread-safe: every public method may be called from any thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/metrics/registry.h"
#include "change_data.pb.h"
#include "reshard_data.pb.h"
#include "tablet/engine/engine.h"
#include "topo/server.h"
#include "topodata.pb.h"

namespace shale::tablet::reshard {

class FilteredStream;

// What the manager needs to know about its tablet, supplied by the
// TabletServer (the tablet's StateManager sits above this library).
struct TabletHooks {
  // Whether the tablet is the primary now (type PRIMARY and writing its log).
  std::function<bool()> is_primary;
  // Blocks until the tablet's state generation differs from seen or timeout
  // passes; returns the generation (StateManager::WaitForChange).
  std::function<int64_t(int64_t seen, absl::Duration timeout)> wait_for_change;
};

struct StreamManagerOptions {
  std::string keyspace;  // the tablet's (target) keyspace and shard
  std::string shard;
  topodata::KeyRange key_range;  // the tablet's own range: the filter
  int copy_batch_rows = 1000;
  absl::Duration backoff_initial = absl::Milliseconds(50);
  absl::Duration backoff_max = absl::Seconds(5);
  metrics::MetricsRegistry* metrics = nullptr;  // may be null
};

class StreamManager {
 public:
  StreamManager(topo::Server* ts, engine::Engine* engine, StreamManagerOptions options,
                TabletHooks hooks);
  ~StreamManager();
  StreamManager(const StreamManager&) = delete;
  StreamManager& operator=(const StreamManager&) = delete;

  // Starts the control thread. The tablet creates `_shale_reshard`
  // (state_store.h CreateStateTable) before replication starts, since
  // replicated changesets carry its rows.
  absl::Status Start();
  void Stop();

  // A new version of the Shard record (topology thread; does not block).
  void OnShardRecord(const topodata::Shard& shard);

  // SyncStreams: re-reads the Shard record and starts or stops streams to
  // match it before returning. FailedPrecondition on a non-primary. A stream
  // stopped here applies nothing after the return.
  absl::StatusOr<std::vector<StreamState>> Sync();

  // Every stream this tablet knows: running ones live, the others from the
  // `_shale_reshard` rows (replicated, so a replica answers too). By uid.
  std::vector<StreamState> States();
  // NotFound for an unknown uid.
  absl::StatusOr<StreamState> State(uint32_t uid);

  // Waits until stream uid has applied `position` or further (seq, then row,
  // row 0 after every row of its entry). DeadlineExceeded naming both
  // positions at the deadline; NotFound for an unknown uid.
  absl::StatusOr<StreamState> WaitForPosition(uint32_t uid, const ChangePosition& position,
                                              absl::Time deadline);

  // VDiff. Pause: the stream stops applying after its current batch (it
  // keeps its subscription); returns the state with the applied position.
  // FailedPrecondition while it is still copying; NotFound for an unknown
  // uid (or one not running on this tablet).
  absl::StatusOr<StreamState> Pause(uint32_t uid);
  // Applies up to exactly `until` (an entry boundary {seq, term, 0}), then
  // stays paused there; returns the state (position == until). Also from a
  // running stream. FailedPrecondition if the stream already applied past
  // `until`; DeadlineExceeded if it did not get there by the deadline (it
  // stays paused wherever it got to; Resume lets it go).
  absl::StatusOr<StreamState> ResumeUntil(uint32_t uid, const ChangePosition& until,
                                          absl::Time deadline);
  // Ends a Pause or ResumeUntil: the stream applies everything again. No-op
  // for an unknown or running uid.
  void Resume(uint32_t uid);

 private:
  void ControlLoop();
  void RoleLoop();
  // Makes the running streams match `shard` (or none when not primary).
  absl::Status Reconcile(const topodata::Shard* shard, bool primary);
  std::shared_ptr<FilteredStream> Find(uint32_t uid);

  topo::Server* const ts_;
  engine::Engine* const engine_;
  const StreamManagerOptions options_;
  const TabletHooks hooks_;

  absl::Mutex reconcile_mu_;  // serialises Reconcile (control thread and Sync)

  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = true;
  bool have_shard_ ABSL_GUARDED_BY(mu_) = false;
  topodata::Shard shard_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, std::shared_ptr<FilteredStream>> streams_ ABSL_GUARDED_BY(mu_);

  std::thread control_thread_;
  std::thread role_thread_;
};

}  // namespace shale::tablet::reshard
