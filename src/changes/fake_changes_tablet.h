#pragma once

// Test-only fakes for change subscriptions: FakeShardLog, one shard's log of
// change events shared by the fake tablets of that shard (as replication
// would), and FakeChangesTablet, a gRPC server with Changes.Subscribe and
// Replication.ReplicationStatus over such a log, registered in a topology
// like a real tablet. Used by this folder's tests and the gateway's.
// Thread-safe; each owned by its test.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "change_data.pb.h"
#include "grpcpp/server.h"
#include "tablet_service.grpc.pb.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::changes {

class FakeShardLog {
 public:
  // Appends one entry (seq = the next) of rows INSERT events on table with
  // pk id = first_id.., value column v; returns the entry's seq.
  int64_t AppendInserts(const std::string& table, int64_t first_id, int rows, int64_t term = 1);
  // Events after `from` (all of them when from is empty), and the newest position.
  std::vector<tablet::ChangeEvent> After(const tablet::ChangePosition& from) const;
  tablet::ChangePosition Newest() const;
  // Waits up to timeout for an entry after seq; true if there is one.
  bool WaitAfter(int64_t seq, absl::Duration timeout) const;

 private:
  mutable absl::Mutex mu_;
  std::vector<tablet::ChangeEvent> events_ ABSL_GUARDED_BY(mu_);
  int64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t term_ ABSL_GUARDED_BY(mu_) = 1;
};

class FakeChangesTablet {
 public:
  // Starts the server on a free loopback port over log (borrowed, outlives it).
  FakeChangesTablet(FakeShardLog* log, topo::TabletAlias alias);
  ~FakeChangesTablet();

  // Writes this tablet's record (keyspace, shard, type, address) and
  // ShardReplication entry; with type PRIMARY also the Shard record.
  void Register(topo::Server& ts, const std::string& keyspace, const std::string& shard,
                topodata::TabletType type);

  // Subscribe answers with this status from now on (OkStatus: serve).
  void Refuse(absl::Status status);
  // Ends every open stream with UNAVAILABLE (a killed tablet, without the kill).
  void EndStreams();
  // Sends moved_to on every open stream, which keeps relaying.
  void MoveTo(const topo::TabletAlias& to);
  // Ignores `from` and sends the whole log (what dedup must absorb).
  void ResendEverything(bool on);

  int subscribes() const;
  tablet::ChangePosition last_from() const;
  const topo::TabletAlias& alias() const { return alias_; }
  int port() const { return port_; }

 private:
  class Service;
  class ReplicationService;
  friend class Service;

  FakeShardLog* const log_;
  const topo::TabletAlias alias_;
  int port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<ReplicationService> replication_;
  std::unique_ptr<grpc::Server> server_;
  mutable absl::Mutex mu_;
  // mu_ protects the following.
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
  int generation_ ABSL_GUARDED_BY(mu_) = 0;  // EndStreams bumps it
  std::optional<topo::TabletAlias> moved_to_ ABSL_GUARDED_BY(mu_);
  bool resend_ ABSL_GUARDED_BY(mu_) = false;
  int subscribes_ ABSL_GUARDED_BY(mu_) = 0;
  tablet::ChangePosition last_from_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shale::changes
