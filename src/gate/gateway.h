#pragma once

// Gateway: the `shale gate` process's parts, wired together (DESIGN §5).
//   - discovery: a TopologyWatcher per cell feeding one HealthCheck; the
//     SrvKeyspaceWatcher (serving graphs, RoutingPolicy, regions); the
//     TabletPicker;
//   - SchemaCache (VSchema watches), StreamPool (query streams to tablets),
//     PrimaryBuffer (requests held during a primary change);
//   - front ends: the PostgreSQL server (gate/pgwire), gRPC Gate.Execute,
//     and the HTTP status port (/metrics, /debug/status, /debug/vars).
//
// Lifecycle: Start() builds and starts everything (returning an error if a
// port cannot be bound); Stop() (idempotent, also the destructor) closes the
// front ends first, then discovery. Owned by the gate command or a test;
// borrows the topo::Server, which must outlive it. Thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/http/status_server.h"
#include "base/metrics/registry.h"
#include "gate/gate_context.h"
#include "topo/server.h"

namespace grpc {
class Server;
}

namespace shale::discovery {
class TopologyWatcher;
}

namespace shale::gate {

namespace pgwire {
class Server;
}
class GateService;
class SessionFactoryImpl;

struct GatewayOptions {
  std::string cell;                 // the gateway's own cell (required)
  std::string bind_address = "127.0.0.1";
  int pg_port = 15432;              // 0: any free port
  int grpc_port = 0;                // 0: any free port; -1: no gRPC
  int http_port = 0;                // 0: any free port; -1: no HTTP
  absl::Duration buffer_window = absl::Seconds(10);
  int buffer_size = 1000;
  TransactionMode transaction_mode = TransactionMode::kMulti;
  std::string auth_file;            // SCRAM-SHA-256 users; empty: trust
  std::string tls_cert_file;
  std::string tls_key_file;
  int max_connections = 1000;
  absl::Duration health_timeout = absl::Seconds(15);
};

class Gateway {
 public:
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(topo::Server* ts, GatewayOptions options);
  ~Gateway();
  void Stop();

  int pg_port() const;
  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_ != nullptr ? http_->port() : 0; }
  GateContext& context() { return ctx_; }
  discovery::HealthCheck& health() { return *health_; }
  metrics::MetricsRegistry& registry() { return registry_; }

 private:
  Gateway(topo::Server* ts, GatewayOptions options);
  absl::Status StartAll();
  absl::Status StartHttp();
  std::string RenderTablets() const;

  topo::Server* const ts_;
  const GatewayOptions options_;
  metrics::MetricsRegistry registry_;
  std::unique_ptr<discovery::HealthCheck> health_;
  std::vector<std::unique_ptr<discovery::TopologyWatcher>> watchers_;
  std::unique_ptr<discovery::SrvKeyspaceWatcher> serving_;
  std::unique_ptr<discovery::TabletPicker> picker_;
  std::unique_ptr<SchemaCache> schemas_;
  std::unique_ptr<StreamPool> pool_;
  std::unique_ptr<PrimaryBuffer> buffer_;
  std::unique_ptr<MetaClient> meta_;
  std::unique_ptr<TableCreator> table_creator_;
  std::unique_ptr<TableDropper> table_dropper_;
  GateContext ctx_;
  int health_subscription_ = -1;
  std::unique_ptr<SessionFactoryImpl> factory_;
  std::unique_ptr<pgwire::Server> pg_;
  std::unique_ptr<GateService> gate_service_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  std::unique_ptr<http::StatusServer> http_;
  bool stopped_ = false;
};

}  // namespace shale::gate
