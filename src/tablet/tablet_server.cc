#include "tablet/tablet_server.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/backoff.h"
#include "base/grpc_tls/credentials.h"
#include "base/status_macros.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "spdlog/spdlog.h"
#include "tablet/client/session_socket.h"
#include "tablet/reshard/state_store.h"
#include "tablet/startup.h"

namespace shale::tablet {

TabletServer::TabletServer(topo::Server* ts, TabletServerOptions options)
    : ts_(ts), options_(std::move(options)) {}

TabletServer::~TabletServer() { Stop(); }

absl::StatusOr<std::unique_ptr<TabletServer>> TabletServer::Start(topo::Server* ts,
                                                                  TabletServerOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  if (options.grpc_port < 0 || options.grpc_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad gRPC port ", options.grpc_port));
  }
  if (options.health_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--health-interval must be positive");
  }
  if (options.max_in_flight < 1) return absl::InvalidArgumentError("max_in_flight must be >= 1");
  std::unique_ptr<TabletServer> server(new TabletServer(ts, std::move(options)));
  absl::Status s = server->Init();
  if (!s.ok()) {
    server->Stop();
    return s;
  }
  return server;
}

absl::Status TabletServer::Init() {
  admission_ = std::make_unique<Admission>(options_.max_in_flight);
  ctx_.admission = admission_.get();
  ctx_.stats = &stats_;
  ctx_.ts = ts_;
  ctx_.health_interval = options_.health_interval;

  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   grpc_tls::ServerCredentials(options_.grpc_tls));
  RETURN_IF_ERROR(StartHttp());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(options_.bind_address, ":", options_.grpc_port),
                           credentials, &grpc_port_);
  builder.RegisterService(&query_service_);
  builder.RegisterService(&manager_service_);
  builder.RegisterService(&health_service_);
  builder.RegisterService(&replication_service_);
  builder.RegisterService(&changes_service_);
  builder.RegisterService(&reshard_service_);
  builder.SetMaxReceiveMessageSize(64 << 20);
  grpc_ = builder.BuildAndStart();
  if (grpc_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options_.bind_address, ":", options_.grpc_port));
  }
  // The session port speaks plaintext: with internal TLS it stays on
  // loopback (gateways on this machine), and gateways elsewhere carry their
  // sessions over the TLS gRPC port (gate/tablet_stream.h).
  const bool session_local_only = options_.grpc_tls.ServerEnabled();
  RETURN_IF_ERROR(sessions_.Start(session_local_only ? "127.0.0.1" : options_.bind_address,
                                  options_.session_port));
  if (session_local_only) {
    spdlog::info(
        "internal TLS: the session port {} listens on 127.0.0.1 only; gateways on "
        "other machines use the TLS gRPC port for query sessions",
        sessions_.port());
  }

  StartupOptions so;
  so.alias = options_.alias;
  so.keyspace = options_.keyspace;
  so.shard = options_.shard;
  so.db_name = options_.db_name;
  so.init_type = options_.init_type;
  so.hostname = options_.hostname;
  so.port_map["grpc"] = grpc_port_;
  so.port_map[session_local_only ? std::string(kLocalSessionPortName) : "session"] =
      sessions_.port();
  if (http_ != nullptr) so.port_map["http"] = http_->port();

  const absl::Time deadline = absl::Now() + options_.topo_wait;
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(2));
  absl::StatusOr<StartupResult> startup;
  for (;;) {
    startup = ResolveStartup(*ts_, so, absl::Now());
    if (startup.ok() || !absl::IsUnavailable(startup.status()) || absl::Now() >= deadline) break;
    spdlog::warn("topology unavailable at startup, retrying: {}", startup.status().ToString());
    const absl::Duration pause = std::min(backoff.Next(), deadline - absl::Now());
    if (options_.cancel_startup == nullptr) {
      absl::SleepFor(pause);
    } else if (options_.cancel_startup->WaitForNotificationWithTimeout(pause)) {
      return absl::CancelledError("startup cancelled while waiting for the topology");
    }
  }
  RETURN_IF_ERROR(startup.status());
  notes_ = startup->notes;
  for (const std::string& note : notes_) spdlog::info("startup: {}", note);

  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create --data-dir ", options_.data_dir, ": ", ec.message()));
  }
  const topodata::Tablet& rec = startup->record;
  replication::ReplicationOptions ro;
  ro.self = options_.alias;
  ro.keyspace = rec.keyspace();
  ro.shard = rec.shard();
  ro.heartbeat_interval = options_.heartbeat_interval;
  ro.semi_sync_timeout = options_.semi_sync_timeout;
  ro.log_retention = options_.log_retention;
  ro.scratch_dir = options_.data_dir;
  replication_ = std::make_unique<replication::ReplicationManager>(ts_, ro);
  engine::EngineOptions eo = options_.engine;
  eo.idle_timeout = options_.txn_idle_timeout;
  eo.commit_hook = replication_->log_writer();
  eo.write_gate = &gate_;
  // MoveTables' denied tables. The engine exists before serving_primary_,
  // but user statements arrive only once the tablet is ready.
  eo.check_user_statement = [this](const engine::StatementInfo& info) {
    ServingPrimary* sp = serving_primary_.get();
    return sp == nullptr ? absl::OkStatus() : sp->CheckTables(info.tables);
  };
  const std::string db_path =
      (std::filesystem::path(options_.data_dir) / (startup->record.db_name() + ".db")).string();
  ASSIGN_OR_RETURN(engine_, engine::Engine::Open(db_path, std::move(eo)));

  publisher_ = std::make_unique<RecordPublisher>(ts_, options_.publisher);
  publisher_->Start();
  state_ = std::make_unique<StateManager>(startup->record, engine_.get(), publisher_.get());
  state_->Start();
  leadership_ =
      std::make_unique<Leadership>(ts_, state_.get(), engine_.get(), replication_.get(), &gate_);
  serving_primary_ = std::make_unique<ServingPrimary>(ts_, rec.keyspace(), rec.shard(),
                                                      leadership_.get(), &gate_);
  {
    reshard::StreamManagerOptions so;
    so.keyspace = rec.keyspace();
    so.shard = rec.shard();
    so.key_range = rec.key_range();
    so.metrics = &metrics_;
    reshard::TabletHooks hooks;
    hooks.is_primary = [this] {
      const StateSnapshot snap = state_->Snapshot();
      return snap.record.type() == topodata::PRIMARY && !snap.read_only &&
             replication_->is_primary();
    };
    hooks.wait_for_change = [this](int64_t seen, absl::Duration timeout) {
      return state_->WaitForChange(seen, timeout);
    };
    streams_ = std::make_unique<reshard::StreamManager>(ts_, engine_.get(), std::move(so),
                                                        std::move(hooks));
    // Before replication starts: replicated changesets carry its rows.
    RETURN_IF_ERROR(reshard::CreateStateTable(*engine_));
  }
  RETURN_IF_ERROR(replication_->Start(
      engine_.get(),
      [this](const ChangeConfig& cc, const LogPosition& pos) {
        return leadership_->OnChangeConfig(cc, pos);
      },
      [this](const topodata::Shard& shard) {
        serving_primary_->OnShardRecord(shard);
        leadership_->OnShardRecord(shard);
        streams_->OnShardRecord(shard);
      }));
  {
    absl::StatusOr<topo::KeyspaceInfo> ks = ts_->GetKeyspace(rec.keyspace());
    const bool semi_sync = ks.ok() && ks->record.durability_policy() == topodata::SEMI_SYNC;
    replication_->SetSemiSync(semi_sync);
    if (semi_sync) spdlog::info("durability policy semi_sync: commits wait for a replica");
  }
  RETURN_IF_ERROR(leadership_->StartRole());
  RETURN_IF_ERROR(streams_->Start());

  ctx_.engine = engine_.get();
  ctx_.state = state_.get();
  ctx_.publisher = publisher_.get();
  ctx_.replication = replication_.get();
  ctx_.leadership = leadership_.get();
  ctx_.streams = streams_.get();
  ctx_.serving_primary = serving_primary_.get();
  ctx_.scratch_dir = options_.data_dir;
  ctx_.ready.store(true, std::memory_order_release);
  ExportStatus();
  const topodata::Tablet& r = startup->record;
  spdlog::info("tablet {} serving {}/{} as {} on {}:{} (http {}, db {})", options_.alias.ToString(),
               r.keyspace(), r.shard(), topodata::TabletType_Name(r.type()), options_.bind_address,
               grpc_port_, http_port(), db_path);
  return absl::OkStatus();
}

void TabletServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  ctx_.stopping.store(true, std::memory_order_release);
  // First: nothing is applied after this, and stream waiters return.
  if (streams_ != nullptr) streams_->Stop();
  if (http_ != nullptr) http_->Stop();
  sessions_.Stop();
  if (grpc_ != nullptr) {
    grpc_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(options_.shutdown_grace));
    grpc_->Wait();
  }
  if (publisher_ != nullptr) publisher_->Stop(options_.shutdown_grace);
  ctx_.ready.store(false, std::memory_order_release);
  if (replication_ != nullptr) replication_->Stop();
  if (serving_primary_ != nullptr) serving_primary_->Stop();
  gate_.Thaw(absl::UnavailableError("tablet is shutting down"));
  serving_primary_.reset();
  streams_.reset();
  leadership_.reset();
  state_.reset();
  engine_.reset();
  replication_.reset();
  if (grpc_port_ != 0) spdlog::info("tablet {} stopped", options_.alias.ToString());
}

}  // namespace shale::tablet
