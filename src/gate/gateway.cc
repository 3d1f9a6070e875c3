#include "gate/gateway.h"

#include "absl/strings/str_cat.h"
#include "base/http/html.h"
#include "base/sqlstate.h"
#include "base/fiber/io_wait.h"
#include "base/status_macros.h"
#include "discovery/topology_watcher.h"
#include "gate/gate_service.h"
#include "gate/gate_session.h"
#include "gate/pgwire/server.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "spdlog/spdlog.h"

namespace shale::gate {

// Opens a GateSession for each authenticated PostgreSQL connection.
class SessionFactoryImpl : public pgwire::SessionFactory {
 public:
  explicit SessionFactoryImpl(GateContext* ctx) : ctx_(ctx) {}
  absl::StatusOr<std::unique_ptr<pgwire::Session>> Open(
      const pgwire::StartupInfo& info) override {
    ASSIGN_OR_RETURN(SessionTarget target, ParseTarget(info.database));
    // The keyspace must be served here (this starts its watches: topology
    // reads, off the connection's fiber).
    absl::Status served;
    fiber::RunBlocking([&] { served = ctx_->schemas->Get(target.keyspace).status(); });
    RETURN_IF_ERROR(served);
    return std::make_unique<GateSession>(ctx_, std::move(target), info.user);
  }

 private:
  GateContext* const ctx_;
};

Gateway::Gateway(topo::Server* ts, GatewayOptions options)
    : ts_(ts), options_(std::move(options)) {}

Gateway::~Gateway() { Stop(); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(topo::Server* ts,
                                                        GatewayOptions options) {
  if (options.cell.empty()) return absl::InvalidArgumentError("the gateway needs its --cell");
  auto g = std::unique_ptr<Gateway>(new Gateway(ts, std::move(options)));
  RETURN_IF_ERROR(g->StartAll());
  return g;
}

int Gateway::pg_port() const { return pg_ != nullptr ? pg_->port() : 0; }

absl::Status Gateway::StartAll() {
  discovery::HealthCheckOptions ho;
  ho.health_timeout = options_.health_timeout;
  health_ = std::make_unique<discovery::HealthCheck>(ho);
  health_->Start();
  serving_ = std::make_unique<discovery::SrvKeyspaceWatcher>(ts_);
  serving_->Start();
  picker_ = std::make_unique<discovery::TabletPicker>(options_.cell, health_.get(), serving_.get());
  schemas_ = std::make_unique<SchemaCache>(ts_, serving_.get(), options_.cell);
  pool_ = std::make_unique<StreamPool>();
  meta_ = std::make_unique<MetaClient>(ts_);
  table_creator_ = std::make_unique<TableCreator>(meta_.get(), schemas_.get());
  table_dropper_ = std::make_unique<TableDropper>(meta_.get(), schemas_.get());
  buffer_ = std::make_unique<PrimaryBuffer>(
      PrimaryBuffer::Options{options_.buffer_window, options_.buffer_size}, &registry_);
  health_subscription_ =
      health_->Subscribe([this](const discovery::TabletHealthPtr&) { buffer_->Notify(); });

  // Watch every cell's tablets (cells are read once here).
  std::vector<std::string> cells = {options_.cell};
  if (absl::StatusOr<std::vector<std::string>> all = ts_->ListCells(); all.ok()) {
    for (const std::string& c : *all) {
      if (c != options_.cell) cells.push_back(c);
    }
  } else {
    spdlog::warn("cannot list cells ({}); watching only cell {}", all.status().ToString(),
                 options_.cell);
  }
  for (const std::string& cell : cells) {
    watchers_.push_back(std::make_unique<discovery::TopologyWatcher>(ts_, cell, health_.get()));
    watchers_.back()->Start();
  }

  ctx_.cell = options_.cell;
  ctx_.transaction_mode = options_.transaction_mode;
  ctx_.ts = ts_;
  ctx_.health = health_.get();
  ctx_.serving = serving_.get();
  ctx_.picker = picker_.get();
  ctx_.schemas = schemas_.get();
  ctx_.pool = pool_.get();
  ctx_.buffer = buffer_.get();
  ctx_.table_creator = table_creator_.get();
  ctx_.table_dropper = table_dropper_.get();
  ctx_.metrics.statements = registry_.AddCounterFamily(
      "shale_gate_statements_total", "Statements received, by kind.", {"kind"});
  ctx_.metrics.retries = registry_.AddCounter(
      "shale_gate_retries_total", "Statements sent again after their tablet failed them.");
  ctx_.metrics.scatters = registry_.AddCounter(
      "shale_gate_multi_shard_statements_total", "Statements that ran on more than one shard.");

  RETURN_IF_ERROR(StartHttp());

  factory_ = std::make_unique<SessionFactoryImpl>(&ctx_);
  pgwire::ServerOptions po;
  po.host = options_.bind_address;
  po.port = options_.pg_port;
  po.auth_file = options_.auth_file;
  po.tls_cert_file = options_.tls_cert_file;
  po.tls_key_file = options_.tls_key_file;
  po.max_connections = options_.max_connections;
  ASSIGN_OR_RETURN(pg_, pgwire::Server::Start(po, factory_.get()));

  if (options_.grpc_port >= 0) {
    gate_service_ = std::make_unique<GateService>(&ctx_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat(options_.bind_address, ":", options_.grpc_port),
                             grpc::InsecureServerCredentials(), &grpc_port_);
    builder.RegisterService(gate_service_.get());
    grpc_ = builder.BuildAndStart();
    if (grpc_ == nullptr || grpc_port_ == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ",
                                                 options_.bind_address, ":",
                                                 options_.grpc_port));
    }
  }
  return absl::OkStatus();
}

absl::Status Gateway::StartHttp() {
  if (options_.http_port < 0) return absl::OkStatus();
  http::StatusServerOptions ho;
  ho.bind_address = options_.bind_address;
  ho.port = options_.http_port;
  ho.process_name = "gate";
  ho.title = absl::StrCat("shale gate (cell ", options_.cell, ")");
  http_ = std::make_unique<http::StatusServer>(ho, &registry_);
  RETURN_IF_ERROR(registry_.AddCallbackGauge(
      "shale_gate_tablets", "Tablets discovery knows.",
      [this] { return static_cast<double>(health_->Stats().tablets); }));
  RETURN_IF_ERROR(registry_.AddCallbackGauge(
      "shale_gate_health_streams", "Health streams open to tablets.",
      [this] { return static_cast<double>(health_->Stats().streams_open); }));
  RETURN_IF_ERROR(registry_.AddCallbackGauge(
      "shale_gate_query_streams_idle", "Idle pooled query streams to tablets.",
      [this] { return static_cast<double>(pool_->idle()); }));
  RETURN_IF_ERROR(registry_.AddCallbackCounter(
      "shale_gate_query_streams_opened_total", "Query streams opened to tablets.",
      [this] { return static_cast<double>(pool_->opened()); }));
  RETURN_IF_ERROR(registry_.AddCallbackGauge(
      "shale_gate_pg_connections", "Open PostgreSQL client connections.", [this] {
        return pg_ != nullptr ? static_cast<double>(pg_->stats().connections_open) : 0.0;
      }));
  RETURN_IF_ERROR(registry_.AddCallbackCounter(
      "shale_gate_pg_queries_total", "Statements run for PostgreSQL clients.", [this] {
        return pg_ != nullptr ? static_cast<double>(pg_->stats().queries) : 0.0;
      }));
  RETURN_IF_ERROR(registry_.AddCallbackCounter(
      "shale_gate_pg_errors_total", "ErrorResponses sent to PostgreSQL clients.", [this] {
        return pg_ != nullptr ? static_cast<double>(pg_->stats().errors) : 0.0;
      }));
  http_->SetHealthCallback([this]() -> absl::Status {
    if (pg_ == nullptr) return absl::UnavailableError("starting");
    return absl::OkStatus();
  });
  http_->AddStatusSection("Tablets", [this] { return RenderTablets(); });
  http_->AddVars("gate", [this] {
    nlohmann::json j;
    j["cell"] = options_.cell;
    j["pg_port"] = pg_port();
    j["grpc_port"] = grpc_port_;
    j["buffered_requests"] = buffer_->buffered();
    nlohmann::json tablets = nlohmann::json::array();
    for (const discovery::TabletHealthPtr& h : health_->GetAll()) {
      tablets.push_back({{"alias", h->alias.ToString()},
                         {"keyspace", h->target.keyspace},
                         {"shard", h->target.shard},
                         {"type", discovery::TabletTypeName(h->target.type)},
                         {"serving", h->IsServing()},
                         {"primary_term", h->primary_term},
                         {"lag_seconds", h->replication_lag_seconds},
                         {"address", h->address}});
    }
    j["tablets"] = tablets;
    return j;
  });
  return http_->Start();
}

std::string Gateway::RenderTablets() const {
  std::string out =
      "<table><tr><th>alias</th><th>keyspace/shard</th><th>type</th><th>state</th>"
      "<th>term</th><th>lag</th><th>address</th></tr>";
  for (const discovery::TabletHealthPtr& h : health_->GetAll()) {
    absl::StrAppend(&out, "<tr><td>", http::HtmlEscape(h->alias.ToString()), "</td><td>",
                    http::HtmlEscape(h->target.ToString()), "</td><td>",
                    discovery::TabletTypeName(h->target.type), "</td><td>",
                    h->IsServing() ? "serving" : http::HtmlEscape(h->last_error.empty()
                                                                      ? "not serving"
                                                                      : h->last_error),
                    "</td><td>", h->primary_term, "</td><td>", h->replication_lag_seconds,
                    "s</td><td>", http::HtmlEscape(h->address), "</td></tr>");
  }
  out += "</table>";
  return out;
}

void Gateway::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (pg_ != nullptr) pg_->Stop();
  if (grpc_ != nullptr) grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (http_ != nullptr) http_->Stop();
  for (auto& w : watchers_) w->Stop();
  if (health_ != nullptr) {
    if (health_subscription_ >= 0) health_->Unsubscribe(health_subscription_);
    health_->Stop();
  }
  if (serving_ != nullptr) serving_->Stop();
}

}  // namespace shale::gate
