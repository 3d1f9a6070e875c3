#pragma once

// FakeTablet: a stand-in for `shale tablet` in unit tests of the reparent
// operations and of ctld. It serves the TabletManager, Replication and Health
// RPCs those call on a free loopback port, publishes its record and joins
// its shard's ShardReplication, and keeps its "log" as one number (seq)
// with a term. Replication is simulated: SetReplicationSource with start
// copies the source's seq at once (the Shard record's primary when no source
// is named); WaitForPosition answers at once.
//
// A FakeCluster owns the fakes of one topology so that they can find each
// other (a MigratePrimary candidate, a replication source). Kill() stops a
// fake's server, as kill -9 would: its port refuses connections.
//
// Thread-safe: the gRPC threads and the test thread share each fake's state
// under its mutex. Test-only (library shale_ctl_fake_tablet).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"
#include "tablet_service.grpc.pb.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::ctl::fakes {

class FakeCluster;

// The fake's state, as the test sets and reads it.
struct FakeState {
  topodata::TabletType type = topodata::REPLICA;
  int64_t seq = 0;
  int64_t term = 0;  // the newest term the tablet knows
  bool replicating = false;
  std::string source;  // alias it replicates from, "" for the Shard record's primary
  bool read_only = true;
  std::vector<std::string> calls;  // RPC names received, in order
};

class FakeTablet {
 public:
  ~FakeTablet();

  const topo::TabletAlias& alias() const { return alias_; }
  FakeState state() const;
  void set_seq(int64_t seq);
  // Fails every RPC named method with code UNAVAILABLE while set.
  void FailRpc(const std::string& method);
  // Stops serving; the port then refuses connections.
  void Kill();
  bool killed() const;

 private:
  friend class FakeCluster;
  class ManagerService;
  class ReplicationService;
  class HealthService;

  FakeTablet(FakeCluster* cluster, topo::TabletAlias alias);
  void Record(const std::string& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Fails(const std::string& method) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  tablet::ReplicationStatus StatusLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the tablet record (type and term) to the topology.
  void Publish();

  FakeCluster* const cluster_;
  const topo::TabletAlias alias_;
  std::string keyspace_;
  std::string shard_;
  std::unique_ptr<ManagerService> manager_;
  std::unique_ptr<ReplicationService> replication_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  FakeState state_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> failing_ ABSL_GUARDED_BY(mu_);
  bool killed_ ABSL_GUARDED_BY(mu_) = false;
};

class FakeCluster {
 public:
  // ts is borrowed and must outlive the cluster.
  explicit FakeCluster(topo::Server* ts) : ts_(ts) {}

  // Starts a fake of ks/shard; a PRIMARY also becomes the Shard record's
  // primary with term.
  FakeTablet* Add(const std::string& alias, const std::string& keyspace, const std::string& shard,
                  topodata::TabletType type, int64_t seq, int64_t term);
  // Null if unknown.
  FakeTablet* Find(const std::string& alias);
  topo::Server& ts() { return *ts_; }

 private:
  topo::Server* const ts_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<FakeTablet>> tablets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shale::ctl::fakes
