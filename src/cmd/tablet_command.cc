#include "cmd/tablet_command.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cmd/ctl_command.h"
#include "cmd/daemon.h"
#include "cmd/grpc_tls_flags.h"
#include "ctl/tablets.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "tablet/tablet_server.h"
#include "topo/open/open.h"

namespace shale::cmd {
namespace {

std::string DefaultDataDir(const std::string& alias) {
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.shale/tablets/", alias);
}

// Logs go to stderr, one line each, with the time, level and tablet alias as
// fields; stdout stays free for the program's own output.
void SetUpLogging(const std::string& alias) {
  auto logger = spdlog::stderr_color_mt("tablet");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern(absl::StrCat("%Y-%m-%dT%H:%M:%S.%fZ level=%l tablet=", alias, " pid=%P %v"),
                      spdlog::pattern_time_type::utc);
}

// The record's hostname: --hostname, else one that reaches --bind-address.
std::string PublishedHostname(const std::string& hostname, const std::string& bind_address) {
  if (!hostname.empty()) return hostname;
  if (bind_address == "127.0.0.1") return "localhost";
  return AdvertisedHost(bind_address);
}

}  // namespace

void AddTabletCommand(CLI::App& app, TabletFlags* f) {
  f->topo = DefaultTopoAddress();
  CLI::App* cmd = app.add_subcommand("tablet", "Serve one tablet: a SQLite database and its record");
  cmd->add_option("--topo", f->topo,
                  "Topology address (default: $SHALE_TOPO, else the local cluster's sqlite file)")
      ->capture_default_str();
  cmd->add_option("--alias", f->alias, "This tablet's alias, CELL-UID (e.g. zone1-101)")
      ->required();
  cmd->add_option("--keyspace", f->keyspace,
                  "Keyspace; required for a new tablet, must match the record otherwise");
  cmd->add_option("--shard", f->shard,
                  "Shard (e.g. 0, -80); required for a new tablet, must match the record otherwise");
  cmd->add_option("--init-type", f->init_type,
                  "Type of a new tablet (replica, rdonly, primary, spare, drained; default "
                  "replica). A restart resumes the recorded type");
  cmd->add_option("--db-name", f->db_name, "Database name (default: the keyspace name)");
  cmd->add_option("--data-dir", f->data_dir,
                  "Directory of the SQLite database (default: $HOME/.shale/tablets/ALIAS)");
  cmd->add_option("--hostname", f->hostname,
                  "Host name published in the record, which gateways, ctld, ctl and other "
                  "tablets dial (default: localhost when --bind-address is 127.0.0.1, this "
                  "machine's host name when it is 0.0.0.0 or ::, else the bind address)");
  cmd->add_option("--bind-address", f->bind_address,
                  "Address the gRPC, session and HTTP ports listen on. The default serves "
                  "this machine only; use --bind-address 0.0.0.0 (or one interface's "
                  "address) when other machines run gateways, ctld or tablets of the cluster, "
                  "and see --grpc-tls-cert")
      ->capture_default_str();
  cmd->add_option("--grpc-port", f->grpc_port,
                  "gRPC port; 0 picks a free port (published in the record)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--session-port", f->session_port,
                  "Port of the gateway's query sessions (a length-prefixed protobuf stream, "
                  "leaner than gRPC on the hot path); 0 picks a free port (published in the "
                  "record as port_map[\"session\"])")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--http-port", f->http_port,
                  "HTTP port for /healthz, /metrics, /debug/status; 0 picks a free port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--health-interval", f->health_interval_s,
                  "Seconds between health stream messages when nothing changes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--txn-idle-timeout", f->txn_idle_timeout_s,
                  "Seconds after which an idle transaction is rolled back")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--topo-wait", f->topo_wait_s,
                  "Seconds startup waits for an unavailable topology")
      ->capture_default_str();
  cmd->add_option("--max-in-flight", f->max_in_flight,
                  "Queries served at once; more get RESOURCE_EXHAUSTED (retryable)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--heartbeat-interval", f->heartbeat_interval_s,
                  "Seconds without commits after which a primary logs a HEARTBEAT (replicas "
                  "measure their lag by it)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--semi-sync-timeout", f->semi_sync_timeout_s,
                  "Seconds a commit waits for a replica's acknowledgement under the semi_sync "
                  "durability policy; then it fails with SQLSTATE 40003 (committed on the "
                  "primary, not confirmed on a replica: retry idempotently)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--log-retention", f->log_retention,
                  "Replication log entries kept; a replica further behind re-clones")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--synchronous", f->synchronous, "SQLite synchronous mode: full or normal")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  AddGrpcTlsFlags(cmd, &f->grpc_tls, GrpcTlsRole::kServerAndClient);
  cmd->callback([f] { f->chosen = true; });
}

int RunTablet(const TabletFlags& f) {
  absl::StatusOr<topo::TabletAlias> alias = topo::TabletAlias::Parse(f.alias);
  if (!alias.ok()) return FailDaemon(alias.status());
  SetUpLogging(alias->ToString());
  // First: threads inherit the mask, and gRPC starts threads once credentials exist.
  StopSignals signals;
  absl::Notification& stop = signals.stop();

  tablet::TabletServerOptions o;
  o.alias = *alias;
  o.keyspace = f.keyspace;
  o.shard = f.shard;
  o.db_name = f.db_name;
  if (!f.init_type.empty()) {
    absl::StatusOr<topodata::TabletType> type = ctl::ParseTabletType(f.init_type);
    if (!type.ok()) return FailDaemon(type.status());
    o.init_type = *type;
  }
  o.data_dir = f.data_dir.empty() ? DefaultDataDir(alias->ToString()) : f.data_dir;
  o.hostname = PublishedHostname(f.hostname, f.bind_address);
  o.bind_address = f.bind_address;
  o.grpc_tls = f.grpc_tls;
  if (absl::Status s = ApplyClientTls(f.grpc_tls); !s.ok()) return FailDaemon(s);
  o.grpc_port = f.grpc_port;
  o.session_port = f.session_port;
  o.http_port = f.http_port;
  o.health_interval = absl::Seconds(f.health_interval_s);
  o.txn_idle_timeout = absl::Seconds(f.txn_idle_timeout_s);
  o.topo_wait = absl::Seconds(f.topo_wait_s);
  o.max_in_flight = f.max_in_flight;
  o.heartbeat_interval = absl::Seconds(f.heartbeat_interval_s);
  o.semi_sync_timeout = absl::Seconds(f.semi_sync_timeout_s);
  o.log_retention = f.log_retention;
  o.engine.synchronous = f.synchronous == "normal" ? tablet::engine::Synchronous::kNormal
                                                   : tablet::engine::Synchronous::kFull;

  // Stop signals cut short a startup waiting for the topology, which may
  // still be starting (e.g. under a process supervisor): retried for --topo-wait.
  o.cancel_startup = &stop;
  const absl::Time deadline = absl::Now() + o.topo_wait;
  absl::StatusOr<std::unique_ptr<topo::Server>> ts_or =
      OpenTopologyWithRetry(f.topo, f.topo == DefaultTopoAddress(), deadline, stop);
  if (!ts_or.ok()) return stop.HasBeenNotified() ? 0 : FailDaemon(ts_or.status());
  topo::Server& ts = **ts_or;
  o.topo_wait = std::max(absl::ZeroDuration(), deadline - absl::Now());
  absl::StatusOr<std::unique_ptr<tablet::TabletServer>> server =
      tablet::TabletServer::Start(&ts, std::move(o));
  if (!server.ok()) {
    if (stop.HasBeenNotified() && absl::IsCancelled(server.status())) return 0;
    return FailDaemon(server.status());
  }
  stop.WaitForNotification();
  (*server)->Stop();
  return 0;
}

}  // namespace shale::cmd
