#pragma once

// The tablet's gRPC services (proto/tablet_service.proto), handlers grouped by
// topic: rpc_query.cc (Query), rpc_state.cc (TabletManager), rpc_health.cc
// (Health), rpc_replication.cc (Replication), rpc_changes.cc (Changes). They share one
// TabletContext, filled in by the TabletServer once startup is done; until then (and after Stop)
// every call gets UNAVAILABLE.
//
// Owned by the TabletServer, registered with its grpc::Server; gRPC calls
// them on its own threads, so every handler is thread-safe.

#include <atomic>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tablet/admission.h"
#include "tablet/engine/engine.h"
#include "tablet/leadership.h"
#include "tablet/query_stats.h"
#include "tablet/replication/replication_manager.h"
#include "tablet/reshard/stream_manager.h"
#include "tablet/serving_primary.h"
#include "tablet/state_manager.h"
#include "tablet_service.grpc.pb.h"
#include "topo/server.h"

namespace shale::tablet {

// What the services work on. The pointers are borrowed from the TabletServer
// and set before ready is stored true; they stay valid until the grpc::Server
// has shut down.
struct TabletContext {
  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};
  engine::Engine* engine = nullptr;
  StateManager* state = nullptr;
  topo::Server* ts = nullptr;
  Admission* admission = nullptr;
  QueryStats* stats = nullptr;
  RecordPublisher* publisher = nullptr;
  replication::ReplicationManager* replication = nullptr;
  Leadership* leadership = nullptr;
  reshard::StreamManager* streams = nullptr;  // resharding: filtered replication
  ServingPrimary* serving_primary = nullptr;  // resharding: primary traffic, the write freeze
  std::string scratch_dir;  // clone files
  absl::Duration health_interval = absl::Seconds(5);

  // Transactions begun through the tunnel: their later calls are forwarded.
  absl::Mutex forwarded_mu;
  absl::flat_hash_set<int64_t> forwarded_txns ABSL_GUARDED_BY(forwarded_mu);

  // UNAVAILABLE while starting or stopping.
  absl::Status CheckReady() const;
};

// FAILED_PRECONDITION naming both targets unless target matches the tablet's
// keyspace, shard and type, and the tablet is serving.
absl::Status CheckTarget(const StateManager& state, const Target& target);

// Whether the tablet refuses writes now: read-only mode, or a primary whose
// fence holds writes after a pause (replication/primary_fence.h).
bool RefusesWrites(const TabletContext& ctx, const StateSnapshot& snap);

// The state as reported by GetState and the other manager RPCs.
TabletState MakeTabletState(const TabletContext& ctx);

class QueryService final : public Query::Service {
 public:
  explicit QueryService(TabletContext* ctx) : ctx_(ctx) {}
  grpc::Status Execute(grpc::ServerContext* context, const ExecuteRequest* request,
                       ExecuteResponse* response) override;
  grpc::Status StreamExecute(grpc::ServerContext* context, const StreamExecuteRequest* request,
                             grpc::ServerWriter<StreamExecuteResponse>* writer) override;
  grpc::Status Begin(grpc::ServerContext* context, const BeginRequest* request,
                     BeginResponse* response) override;
  grpc::Status Commit(grpc::ServerContext* context, const CommitRequest* request,
                      CommitResponse* response) override;
  grpc::Status Rollback(grpc::ServerContext* context, const RollbackRequest* request,
                        RollbackResponse* response) override;
  // rpc_session.cc
  grpc::Status Session(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<SessionResponse, SessionRequest>* stream) override;

 private:
  TabletContext* const ctx_;
};

class TabletManagerService final : public TabletManager::Service {
 public:
  explicit TabletManagerService(TabletContext* ctx) : ctx_(ctx) {}
  grpc::Status Ping(grpc::ServerContext* context, const PingRequest* request,
                    PingResponse* response) override;
  grpc::Status GetState(grpc::ServerContext* context, const GetStateRequest* request,
                        GetStateResponse* response) override;
  grpc::Status ChangeType(grpc::ServerContext* context, const ChangeTypeRequest* request,
                          ChangeTypeResponse* response) override;
  grpc::Status SetReadOnly(grpc::ServerContext* context, const SetReadOnlyRequest* request,
                           SetReadOnlyResponse* response) override;
  grpc::Status SetReadWrite(grpc::ServerContext* context, const SetReadWriteRequest* request,
                            SetReadWriteResponse* response) override;
  grpc::Status RefreshState(grpc::ServerContext* context, const RefreshStateRequest* request,
                            RefreshStateResponse* response) override;
  grpc::Status ExecuteFetchAsDba(grpc::ServerContext* context,
                                 const ExecuteFetchAsDbaRequest* request,
                                 ExecuteFetchAsDbaResponse* response) override;
  // rpc_leadership.cc
  grpc::Status PromoteReplica(grpc::ServerContext* context, const PromoteReplicaRequest* request,
                              PromoteReplicaResponse* response) override;
  grpc::Status MigratePrimary(grpc::ServerContext* context, const MigratePrimaryRequest* request,
                              MigratePrimaryResponse* response) override;
  grpc::Status DemotePrimary(grpc::ServerContext* context, const DemotePrimaryRequest* request,
                             DemotePrimaryResponse* response) override;

 private:
  TabletContext* const ctx_;
};

// rpc_replication.cc
class ReplicationService final : public Replication::Service {
 public:
  explicit ReplicationService(TabletContext* ctx) : ctx_(ctx) {}
  grpc::Status StreamLog(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<StreamLogResponse, StreamLogRequest>* stream) override;
  grpc::Status Clone(grpc::ServerContext* context, const CloneRequest* request,
                     grpc::ServerWriter<CloneResponse>* writer) override;
  grpc::Status ReplicationStatus(grpc::ServerContext* context,
                                 const ReplicationStatusRequest* request,
                                 ReplicationStatusResponse* response) override;
  grpc::Status PrimaryPosition(grpc::ServerContext* context, const PrimaryPositionRequest* request,
                               PrimaryPositionResponse* response) override;
  grpc::Status WaitForPosition(grpc::ServerContext* context, const WaitForPositionRequest* request,
                               WaitForPositionResponse* response) override;
  grpc::Status StartReplication(grpc::ServerContext* context,
                                const StartReplicationRequest* request,
                                StartReplicationResponse* response) override;
  grpc::Status StopReplication(grpc::ServerContext* context, const StopReplicationRequest* request,
                               StopReplicationResponse* response) override;
  grpc::Status SetReplicationSource(grpc::ServerContext* context,
                                    const SetReplicationSourceRequest* request,
                                    SetReplicationSourceResponse* response) override;

 private:
  TabletContext* const ctx_;
};

// rpc_changes.cc: change subscriptions (issue 9). Subscribe streams the
// shard's committed row changes decoded from this tablet's log
// (replication/change_decoder.h), only entries that cannot vanish in a
// failover, and hands the subscription over to the new primary after a
// planned migration. Each call runs on its gRPC thread and reads the log on
// a reader connection of its own, batch by batch, holding no read
// transaction while it waits to write: a slow subscriber never slows commits.
class ChangesService final : public Changes::Service {
 public:
  explicit ChangesService(TabletContext* ctx) : ctx_(ctx) {}
  grpc::Status Subscribe(grpc::ServerContext* context, const SubscribeRequest* request,
                         grpc::ServerWriter<SubscribeResponse>* writer) override;

 private:
  TabletContext* const ctx_;
};

// Resharding (issue 10, proto/reshard_data.proto). Handlers by topic:
// rpc_reshard_streams.cc (CopyRows, StreamStatus, WaitForStream,
// SyncStreams: filtered replication), rpc_reshard_switch.cc (FreezeWrites,
// ThawWrites: the primary switch), rpc_vdiff.cc (RowHashes, VDiff).
class ReshardService final : public Reshard::Service {
 public:
  explicit ReshardService(TabletContext* ctx) : ctx_(ctx) {}
  grpc::Status CopyRows(grpc::ServerContext* context, const CopyRowsRequest* request,
                        grpc::ServerWriter<CopyRowsResponse>* writer) override;
  grpc::Status StreamStatus(grpc::ServerContext* context, const StreamStatusRequest* request,
                            StreamStatusResponse* response) override;
  grpc::Status WaitForStream(grpc::ServerContext* context, const WaitForStreamRequest* request,
                             WaitForStreamResponse* response) override;
  grpc::Status SyncStreams(grpc::ServerContext* context, const SyncStreamsRequest* request,
                           SyncStreamsResponse* response) override;
  grpc::Status FreezeWrites(grpc::ServerContext* context, const FreezeWritesRequest* request,
                            FreezeWritesResponse* response) override;
  grpc::Status ThawWrites(grpc::ServerContext* context, const ThawWritesRequest* request,
                          ThawWritesResponse* response) override;
  grpc::Status RowHashes(grpc::ServerContext* context, const RowHashesRequest* request,
                         grpc::ServerWriter<RowHashesResponse>* writer) override;
  grpc::Status VDiff(grpc::ServerContext* context, const VDiffRequest* request,
                     VDiffResponse* response) override;

 private:
  TabletContext* const ctx_;
};

class HealthService final : public Health::Service {
 public:
  explicit HealthService(TabletContext* ctx) : ctx_(ctx) {}
  grpc::Status StreamHealth(grpc::ServerContext* context, const StreamHealthRequest* request,
                            grpc::ServerWriter<StreamHealthResponse>* writer) override;

 private:
  TabletContext* const ctx_;
};

}  // namespace shale::tablet

namespace shale::tablet {

// Runs a manager or replication call: readiness, then fn, mapped for gRPC.
grpc::Status RunTabletCall(TabletContext* ctx, absl::FunctionRef<absl::Status()> fn);

// Runs one query-path call: checks readiness, takes an admission ticket
// (unless admit is false: Commit and Rollback free resources and are never
// turned away), runs fn and records stats. RunQueryCall also maps the status
// for gRPC.
absl::Status RunQuery(TabletContext* ctx, QueryKind kind, bool admit,
                      absl::FunctionRef<absl::Status()> fn);
grpc::Status RunQueryCall(TabletContext* ctx, QueryKind kind, bool admit,
                          absl::FunctionRef<absl::Status()> fn);

// The query calls themselves (rpc_query.cc), shared by the unary RPCs and the
// Session stream (rpc_session.cc). Each checks the target, forwards through
// the tunnel after a migration, and returns the engine's status.
absl::Status ExecuteCall(TabletContext* ctx, const ExecuteRequest& request,
                         ExecuteResponse* response);
absl::Status BeginCall(TabletContext* ctx, const BeginRequest& request, BeginResponse* response);
absl::Status CommitCall(TabletContext* ctx, const CommitRequest& request, CommitResponse* response);
absl::Status RollbackCall(TabletContext* ctx, const RollbackRequest& request,
                          RollbackResponse* response);

}  // namespace shale::tablet
