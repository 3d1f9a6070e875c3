#pragma once

// TabletServer is one running tablet (DESIGN §3) without its command line:
// the gRPC server with the Query, TabletManager and Health services, the
// session port (the gateway's query path), the
// SQLite engine, the state manager and the record publisher. `shale tablet`
// wraps it; tests and benchmarks run it in-process.
//
// Start order: the gRPC server binds first (port 0 picks a free port), so the
// record can carry the real port; calls get UNAVAILABLE until startup is
// done. Then the startup rules run against the topology (retrying while it is
// unavailable, up to topo_wait), the engine opens <data_dir>/<db_name>.db, the
// state is applied and published, and the services start answering.
//
// Lifecycle: Start() -> running -> Stop() (idempotent; the destructor calls
// it): refuses new calls, ends streams, waits up to shutdown_grace for
// in-flight calls, flushes the record, closes the engine. Owned by its
// caller; the topo::Server is borrowed and must outlive it. Thread-safe.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/grpc_tls/tls_options.h"
#include "base/http/status_server.h"
#include "base/metrics/registry.h"
#include "grpcpp/server.h"
#include "tablet/admission.h"
#include "tablet/engine/engine.h"
#include "tablet/engine/write_gate.h"
#include "tablet/leadership.h"
#include "tablet/replication/replication_manager.h"
#include "tablet/query_stats.h"
#include "tablet/record_publisher.h"
#include "tablet/reshard/stream_manager.h"
#include "tablet/serving_primary.h"
#include "tablet/services.h"
#include "tablet/session_server.h"
#include "tablet/state_manager.h"
#include "topo/server.h"
#include "topo/tablet_alias.h"

namespace shale::tablet {

struct TabletServerOptions {
  topo::TabletAlias alias;
  std::string keyspace;  // "" : from the record
  std::string shard;
  std::string db_name;
  topodata::TabletType init_type = topodata::UNKNOWN;
  std::string data_dir;                        // required; created if missing
  std::string hostname = "localhost";          // published in the record
  std::string bind_address = "127.0.0.1";  // of the gRPC, session and HTTP ports
  // TLS of the gRPC port (--grpc-tls-*); no certificate: plaintext. The
  // session port is not covered (docs/operations.md#security).
  grpc_tls::TlsOptions grpc_tls;
  int grpc_port = 0;  // 0: any free port (published in the record)
  int session_port = 0;  // the gateway's query port; 0: any free port (port_map["session"])
  bool enable_http = true;  // the status port: /healthz, /metrics, /debug/status, /debug/vars
  int http_port = 0;        // 0: any free port (published as port_map["http"])
  absl::Duration health_interval = absl::Seconds(5);
  absl::Duration txn_idle_timeout = absl::Seconds(30);
  int64_t max_in_flight = 256;                 // queries at once; more get RESOURCE_EXHAUSTED
  absl::Duration topo_wait = absl::Seconds(30);  // how long startup waits for the topology
  // When notified (e.g. by SIGTERM), a startup still waiting for the topology
  // gives up with Cancelled. Borrowed; may be null.
  const absl::Notification* cancel_startup = nullptr;
  absl::Duration shutdown_grace = absl::Seconds(2);
  engine::EngineOptions engine;                // idle_timeout is set from txn_idle_timeout
  // Replication (DESIGN §4).
  absl::Duration heartbeat_interval = absl::Seconds(1);  // idle primary writes a HEARTBEAT
  absl::Duration semi_sync_timeout = absl::Seconds(1);   // then the commit fails with 40003
  int64_t log_retention = 1000000;                       // log entries kept
  RecordPublisherOptions publisher;
};

class TabletServer {
 public:
  // Errors: InvalidArgument for bad options; Unavailable if the port cannot
  // be bound or the topology stays down past topo_wait; Cancelled when
  // cancel_startup is notified while waiting for it; the startup rules'
  // errors (startup.h), e.g. FailedPrecondition naming a mismatched field;
  // the engine's Open errors.
  static absl::StatusOr<std::unique_ptr<TabletServer>> Start(topo::Server* ts,
                                                             TabletServerOptions options);
  ~TabletServer();
  TabletServer(const TabletServer&) = delete;
  TabletServer& operator=(const TabletServer&) = delete;

  void Stop();

  int grpc_port() const { return grpc_port_; }
  int session_port() const { return sessions_.port(); }
  int http_port() const { return http_ != nullptr ? http_->port() : 0; }
  metrics::MetricsRegistry& metrics() { return metrics_; }
  const std::vector<std::string>& startup_notes() const { return notes_; }
  StateManager& state() { return *state_; }
  engine::Engine& engine() { return *engine_; }
  RecordPublisher& publisher() { return *publisher_; }
  QueryStats& stats() { return stats_; }
  Admission& admission() { return *admission_; }
  replication::ReplicationManager& replication() { return *replication_; }
  Leadership& leadership() { return *leadership_; }
  reshard::StreamManager& streams() { return *streams_; }
  ServingPrimary& serving_primary() { return *serving_primary_; }
  engine::WriteGate& write_gate() { return gate_; }
  TabletState State() const { return MakeTabletState(ctx_); }

 private:
  TabletServer(topo::Server* ts, TabletServerOptions options);
  absl::Status Init();
  absl::Status StartHttp();
  // Registers the callback metrics, the health callback and the status page
  // section; called once the state exists (see tablet_status.cc).
  void ExportStatus();

  topo::Server* const ts_;
  const TabletServerOptions options_;
  TabletContext ctx_;
  metrics::MetricsRegistry metrics_;
  QueryStats stats_{&metrics_};
  std::unique_ptr<http::StatusServer> http_;
  std::unique_ptr<Admission> admission_;
  QueryService query_service_{&ctx_};
  TabletManagerService manager_service_{&ctx_};
  HealthService health_service_{&ctx_};
  ReplicationService replication_service_{&ctx_};
  ChangesService changes_service_{&ctx_};
  ReshardService reshard_service_{&ctx_};
  engine::WriteGate gate_;
  std::unique_ptr<replication::ReplicationManager> replication_;
  std::unique_ptr<Leadership> leadership_;
  std::unique_ptr<reshard::StreamManager> streams_;
  std::unique_ptr<ServingPrimary> serving_primary_;
  std::unique_ptr<grpc::Server> grpc_;
  SessionServer sessions_{&ctx_};
  int grpc_port_ = 0;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<RecordPublisher> publisher_;
  std::unique_ptr<StateManager> state_;
  std::vector<std::string> notes_;
  bool stopped_ = false;  // main thread only
};

}  // namespace shale::tablet
