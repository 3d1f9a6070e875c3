#pragma once

// FilteredStream: one filtered-replication stream of a target primary (issue
// 10, docs/resharding.md): the rows of one SourceShard whose keyspace id is
// in this shard's key range.
//
//  1. Copy (phase COPYING, when the SourceShard has no start position):
//     Reshard.CopyRows on the source's primary; each table is created from
//     the source's schema if missing, and each response's rows are inserted
//     in one transaction together with the `_shale_reshard` row. A copy
//     that was interrupted (the row says one began) first deletes every row
//     it may have copied (the rows of those tables whose keyspace id is in
//     the source's range) and starts again from a new snapshot.
//  2. Stream (phase RUNNING): the source's change subscription
//     (changes::ShardStream, which follows the source's primary across
//     reparents) from the snapshot position (or the SourceShard's start
//     position); each batch of events that pass the filter is applied by
//     primary key in one transaction together with the new position, so
//     every source event is applied exactly once. DDL and heartbeats only
//     move the position.
//  Errors (a source that is down, a missing table) end the attempt; it is
//  retried with backoff, and the error shows in last_error (phase ERROR)
//  until a later batch succeeds.
//
// Pause / ResumeUntil / Resume hold the stream at a source position for
// VDiff (stream_manager.h).
//
// Lifecycle: construct, Start() (its thread), Stop() (joins; nothing is
// applied after it returns). Owned by the StreamManager (shared with callers
// waiting on it); ts and engine are borrowed. Thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/metrics/metric.h"
#include "change_data.pb.h"
#include "changes/shard_stream.h"
#include "grpcpp/client_context.h"
#include "reshard_data.pb.h"
#include "tablet/engine/engine.h"
#include "tablet/reshard/row_filter.h"
#include "tablet/reshard/state_store.h"
#include "topo/server.h"
#include "topodata.pb.h"

namespace shale::tablet::reshard {

struct StreamConfig {
  topodata::Shard::SourceShard source;
  std::string keyspace;          // this (target) shard's keyspace: its VSchema and sharding column
  topodata::KeyRange key_range;  // this shard's range: the filter
  int copy_batch_rows = 1000;
  absl::Duration backoff_initial = absl::Milliseconds(50);
  absl::Duration backoff_max = absl::Seconds(5);
  // Metrics, each may be null.
  metrics::Counter* rows_copied = nullptr;
  metrics::Counter* events_applied = nullptr;
  metrics::Gauge* lag_seconds = nullptr;
};

class FilteredStream {
 public:
  FilteredStream(topo::Server* ts, engine::Engine* engine, StreamConfig config);
  ~FilteredStream();
  FilteredStream(const FilteredStream&) = delete;
  FilteredStream& operator=(const FilteredStream&) = delete;

  void Start();
  void Stop();

  const topodata::Shard::SourceShard& source() const { return config_.source; }
  uint32_t uid() const { return config_.source.uid(); }

  // The live state (phase PAUSED while held, ERROR while retrying).
  StreamState State() const;
  absl::StatusOr<StreamState> WaitForPosition(const ChangePosition& position, absl::Time deadline);
  absl::StatusOr<StreamState> Pause();
  absl::StatusOr<StreamState> ResumeUntil(const ChangePosition& until, absl::Time deadline);
  void Resume();

 private:
  void Loop();
  absl::Status RunOnce();
  // The tables to copy with their filters (the SourceShard's list, else the
  // source's tables).
  absl::StatusOr<std::vector<TableFilter>> CopyTables();
  absl::StatusOr<TableFilter> FilterOf(const std::string& table);
  absl::Status Copy();
  absl::Status CleanUpCopy(const std::vector<TableFilter>& tables);
  absl::Status Follow();
  // The ShardStream's sink.
  bool OnEvents(std::vector<ChangeEvent> events);
  // Commits `next` (after fn's writes) and makes it the current record.
  absl::Status Commit(StreamRecord next, const std::function<absl::Status(engine::WriteTxn&)>& fn);
  void RecordError(const absl::Status& status);
  StreamState StateLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool stopping() const;

  topo::Server* const ts_;
  engine::Engine* const engine_;
  const StreamConfig config_;

  // The stream thread's own (no lock).
  topodata::VSchema vschema_;
  topodata::Keyspace keyspace_;
  std::map<std::string, std::unique_ptr<RowFilter>> filters_;  // by table, lower case
  std::optional<absl::Status> apply_error_;
  absl::Time last_persist_ = absl::InfinitePast();

  std::thread thread_;
  absl::Mutex stop_mu_;  // held by Stop across the join
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  StreamRecord record_ ABSL_GUARDED_BY(mu_);  // as committed
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;  // record_ was read or written
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  std::string error_ ABSL_GUARDED_BY(mu_);
  int64_t last_commit_ts_us_ ABSL_GUARDED_BY(mu_) = 0;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool applying_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<ChangePosition> until_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* copy_call_ ABSL_GUARDED_BY(mu_) = nullptr;
  changes::ShardStream* follow_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace shale::tablet::reshard
