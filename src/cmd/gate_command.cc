#include "cmd/gate_command.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cmd/ctl_command.h"
#include "cmd/daemon.h"
#include "cmd/duration_flag.h"
#include "cmd/grpc_tls_flags.h"
#include "gate/gateway.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "topo/open/open.h"

namespace shale::cmd {
namespace {

void SetUpLogging() {
  auto logger = spdlog::stderr_color_mt("gate");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l gate pid=%P %v",
                      spdlog::pattern_time_type::utc);
}

constexpr char kFooter[] = R"(
Connect with any PostgreSQL client; the database name is the target:
  psql -h 127.0.0.1 -p 15432 -U anyone -d app            # keyspace app, primaries
  psql ... -d app@replica    (or app@rdonly)              # reads from replicas
  psql ... -d 'app:-80@primary'                            # one shard only

Statements are routed by the keyspace's sharding column (or the table's
VSchema entry); see docs/sql.md for what runs where. Discovery watches the
topology (no polling) and keeps a health stream to every tablet. While a
shard's primary changes, primary requests are held for up to --buffer-window
and then sent to the new primary.

Authentication: trust unless --auth-file names a file of `user:password` or
`user:SCRAM-SHA-256$...` lines (SCRAM-SHA-256). TLS: --tls-cert and
--tls-key (clients ask with sslmode=require).

Status port: /debug/status, /debug/vars, /metrics (shale_gate_*), /healthz.
The gateway prints its ports on stdout. SIGTERM or SIGINT stops it cleanly.)";

}  // namespace

void AddGateCommand(CLI::App& app, GateFlags* f) {
  f->topo = DefaultTopoAddress();
  CLI::App* cmd = app.add_subcommand(
      "gate", "The gateway: PostgreSQL clients connect here; statements go to the right tablet");
  cmd->footer(kFooter);
  cmd->add_option("--topo", f->topo,
                  "Topology address (default: $SHALE_TOPO, else the local cluster's sqlite file)")
      ->capture_default_str();
  cmd->add_option("--cell", f->cell, "The gateway's cell (replica reads prefer it)")->required();
  cmd->add_option("--bind-address", f->bind_address,
                  "Address every port listens on (PostgreSQL, gRPC, HTTP). The default serves "
                  "clients on this machine only, like PostgreSQL's listen_addresses=localhost; "
                  "use --bind-address 0.0.0.0 for clients elsewhere, with --auth-file and "
                  "--tls-cert")
      ->capture_default_str();
  cmd->add_option("--pg-port", f->pg_port, "PostgreSQL protocol port; 0 picks a free port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--grpc-port", f->grpc_port,
                  "gRPC Gate.Execute port; 0 picks a free port, -1 turns it off")
      ->check(CLI::Range(-1, 65535))
      ->capture_default_str();
  cmd->add_option("--http-port", f->http_port, "Status port; 0 picks a free port, -1 turns it off")
      ->check(CLI::Range(-1, 65535))
      ->capture_default_str();
  cmd->add_option("--buffer-window", f->buffer_window,
                  "How long primary requests are held while a primary changes (e.g. 10s)")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--buffer-size", f->buffer_size, "Most requests held at once")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--transaction-mode", f->transaction_mode,
                  "single: a transaction may touch one shard; multi: several, committed in "
                  "order (best effort)")
      ->check(CLI::IsMember({"single", "multi"}))
      ->capture_default_str();
  cmd->add_option("--auth-file", f->auth_file, "Users for SCRAM-SHA-256 authentication")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-cert", f->tls_cert, "TLS certificate (PEM); needs --tls-key")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", f->tls_key, "TLS private key (PEM)")->check(CLI::ExistingFile);
  cmd->add_option("--max-connections", f->max_connections, "Most PostgreSQL clients at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--topo-wait", f->topo_wait_s,
                  "Seconds startup waits for an unavailable topology")
      ->capture_default_str();
  AddGrpcTlsFlags(cmd, &f->grpc_tls, GrpcTlsRole::kClient);
  cmd->callback([f] { f->chosen = true; });
}

int RunGate(const GateFlags& f) {
  SetUpLogging();
  // First: threads inherit the mask, and gRPC starts threads once credentials exist.
  StopSignals signals;
  absl::Notification& stop = signals.stop();
  if (f.tls_cert.empty() != f.tls_key.empty()) {
    return FailDaemon(absl::InvalidArgumentError("--tls-cert and --tls-key go together"));
  }
  if (absl::Status s = ApplyClientTls(f.grpc_tls); !s.ok()) return FailDaemon(s);
  gate::GatewayOptions options;
  {
    absl::StatusOr<absl::Duration> d = ParseDurationFlag(f.buffer_window);
    if (!d.ok()) return FailDaemon(d.status());
    options.buffer_window = *d;
  }
  options.cell = f.cell;
  options.bind_address = f.bind_address;
  options.pg_port = f.pg_port;
  options.grpc_port = f.grpc_port;
  options.http_port = f.http_port;
  options.buffer_size = f.buffer_size;
  options.transaction_mode =
      f.transaction_mode == "single" ? gate::TransactionMode::kSingle : gate::TransactionMode::kMulti;
  options.auth_file = f.auth_file;
  options.tls_cert_file = f.tls_cert;
  options.tls_key_file = f.tls_key;
  options.max_connections = f.max_connections;

  absl::StatusOr<std::unique_ptr<topo::Server>> ts =
      OpenTopologyWithRetry(f.topo, f.topo == DefaultTopoAddress(),
                            absl::Now() + absl::Seconds(f.topo_wait_s), stop);
  if (!ts.ok()) return stop.HasBeenNotified() ? 0 : FailDaemon(ts.status());
  absl::StatusOr<std::unique_ptr<gate::Gateway>> gateway = gate::Gateway::Start(ts->get(), options);
  if (!gateway.ok()) return FailDaemon(gateway.status());
  spdlog::info("gate started: cell {}, topology {}, pg port {}, grpc port {}, http port {}",
               f.cell, f.topo, (*gateway)->pg_port(), (*gateway)->grpc_port(),
               (*gateway)->http_port());
  std::cout << "shale gate: pg_port=" << (*gateway)->pg_port()
            << " grpc_port=" << (*gateway)->grpc_port() << " http_port=" << (*gateway)->http_port()
            << std::endl;
  stop.WaitForNotification();
  (*gateway)->Stop();
  spdlog::info("gate stopped");
  return 0;
}

}  // namespace shale::cmd
