#include "cmd/ctld_command.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "base/grpc_tls/credentials.h"
#include "base/http/status_server.h"
#include "base/metrics/registry.h"
#include "cmd/ctl_command.h"
#include "cmd/daemon.h"
#include "cmd/duration_flag.h"
#include "cmd/grpc_tls_flags.h"
#include "ctld/cluster_watcher.h"
#include "ctld/ctld_services.h"
#include "ctld/dashboard.h"
#include "ctld/failover.h"
#include "ctld/leader_election.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "topo/open/open.h"

namespace shale::cmd {
namespace {

// Logs go to stderr, one line each (time, level, process); stdout carries
// only the line that names the ports.
void SetUpLogging() {
  auto logger = spdlog::stderr_color_mt("ctld");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l ctld pid=%P %v",
                      spdlog::pattern_time_type::utc);
}

constexpr char kFooter[] = R"(
Several ctlds may run against one topology. They elect one leader through
the topology lock of /global/ctld; the leader writes /global/ctld/CtldLeader
(its holder, gRPC and HTTP addresses, term) so gateways and `shale ctl` find
it, and the others stand by and take over when it dies (within the lock's
lease, 10 s). Only the leader acts:

ctld watches the primary of every shard in the topology: it keeps a health
stream open to each primary and pings it when the stream breaks or goes
quiet. When a primary has not answered for --failover-after, ctld runs
EmergencyReparentShard on its shard: the most advanced reachable replica
becomes the primary with a new term and the others follow it. The shard lock
keeps two ctlds (or a ctld and an operator) from acting at once; a ctld that
gets the lock after another one acted finds the primary changed and does
nothing. Shards without a primary are left alone (PlannedReparentShard elects
the first one).

Every ctld, leader or standby, serves on its HTTP port the dashboard at /
(keyspaces, shards, primaries and terms, tablets with health, lag and log
position, recent primary changes and failovers, the leader; it updates
live; JSON at /api/cluster), /debug/status (page), /debug/failover (JSON),
/debug/vars, /metrics (shale_ctld_is_leader,
shale_ctld_leadership_changes_total, shale_ctld_failovers_total,
shale_ctld_failover_seconds) and /healthz. At startup ctld prints
"shale ctld: grpc_port=N http_port=N" on stdout. SIGTERM or SIGINT stops it
cleanly (a leader steps down first).)";

// "host:port" that others can dial: the bind address, or this host's name
// when it binds every interface.
std::string Advertised(const std::string& bind_address, int port) {
  const std::string host = AdvertisedHost(bind_address);
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port)
                                             : absl::StrCat(host, ":", port);
}

}  // namespace

void AddCtldCommand(CLI::App& app, CtldFlags* f) {
  f->topo = DefaultTopoAddress();
  CLI::App* cmd = app.add_subcommand(
      "ctld",
      "The controller: leader election, automatic failover, the cluster dashboard");
  cmd->footer(kFooter);
  cmd->add_option("--topo", f->topo,
                  "Topology address (default: $SHALE_TOPO, else the local cluster's sqlite file)")
      ->capture_default_str();
  cmd->add_option("--failover-after", f->failover_after,
                  "A primary unreachable this long is replaced (e.g. 1.5s, 800ms)")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--discovery-interval", f->discovery_interval,
                  "How often keyspaces and shards are re-listed (primaries are watched)")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--retry-interval", f->retry_interval,
                  "Pause before retrying a failover that failed")
      ->check(DurationValidator())
      ->capture_default_str();
  cmd->add_option("--bind-address", f->bind_address,
                  "Address the HTTP and gRPC ports listen on. The default serves this machine "
                  "only; use --bind-address 0.0.0.0 (or one interface's address) when "
                  "gateways or ctl run on other machines, and see --grpc-tls-cert. The leader "
                  "record publishes this address, or the host name for 0.0.0.0")
      ->capture_default_str();
  cmd->add_option("--http-port", f->http_port,
                  "HTTP port: the dashboard at /, /debug/status, /metrics; 0 picks a free port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--grpc-port", f->grpc_port,
                  "gRPC port of ctld's services (published in the leader record); 0 picks a "
                  "free port, -1 serves none")
      ->check(CLI::Range(-1, 65535))
      ->capture_default_str();
  cmd->add_option("--topo-wait", f->topo_wait_s,
                  "Seconds startup waits for an unavailable topology")
      ->capture_default_str();
  AddGrpcTlsFlags(cmd, &f->grpc_tls, GrpcTlsRole::kServerAndClient);
  cmd->callback([f] { f->chosen = true; });
}

int RunCtld(const CtldFlags& f) {
  SetUpLogging();
  // First: threads inherit the mask, and gRPC starts threads once credentials exist.
  StopSignals signals;
  absl::Notification& stop = signals.stop();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      grpc_tls::ServerCredentials(f.grpc_tls);
  if (!credentials.ok()) return FailDaemon(credentials.status());
  if (absl::Status s = ApplyClientTls(f.grpc_tls); !s.ok()) return FailDaemon(s);
  ctld::FailoverOptions options;
  {
    absl::StatusOr<absl::Duration> d = ParseDurationFlag(f.failover_after);
    if (!d.ok()) return FailDaemon(d.status());
    options.failover_after = *d;
    d = ParseDurationFlag(f.discovery_interval);
    if (!d.ok()) return FailDaemon(d.status());
    options.discovery_interval = std::max(*d, absl::Milliseconds(100));
    d = ParseDurationFlag(f.retry_interval);
    if (!d.ok()) return FailDaemon(d.status());
    options.retry_interval = *d;
  }

  absl::StatusOr<std::unique_ptr<topo::Server>> ts_or =
      OpenTopologyWithRetry(f.topo, f.topo == DefaultTopoAddress(),
                            absl::Now() + absl::Seconds(f.topo_wait_s), stop);
  if (!ts_or.ok()) return stop.HasBeenNotified() ? 0 : FailDaemon(ts_or.status());
  topo::Server& ts = **ts_or;

  metrics::MetricsRegistry registry;
  options.metrics = &registry;
  ctld::FailoverController failover(&ts, options);
  ctld::ClusterWatcher cluster(&ts);
  // Only the leader runs the failover controller.
  ctld::LeaderElectionOptions eo;
  eo.metrics = &registry;
  eo.on_gained = [&failover](const ctld::LeaderInfo& info) {
    absl::Status s = failover.Start();
    if (!s.ok()) spdlog::error("ctld: cannot start failover in term {}: {}", info.term, s.ToString());
  };
  eo.on_lost = [&failover](const absl::Status&) { failover.Stop(); };
  ctld::LeaderElection election(&ts, eo);
  ctld::Dashboard dashboard(&cluster, &election, &failover.history());

  http::StatusServerOptions ho;
  ho.bind_address = f.bind_address;
  ho.port = f.http_port;
  ho.process_name = "ctld";
  ho.title = "shale ctld";
  http::StatusServer http(ho, &registry);
  http.AddVars("ctld", [&failover] { return failover.StatusJson(); });
  http.AddVars("leadership", [&election] { return election.StatusJson(); });
  http.AddStatusSection("Leadership", [&election] { return election.StatusHtml(); });
  http.AddStatusSection("Failover", [&failover] { return failover.StatusHtml(); });
  absl::Status s = http.Handle("/debug/failover", [&failover](const http::HttpRequest&) {
    return http::HttpResponse::Json(200, failover.StatusJson().dump(2) + "\n");
  });
  if (s.ok()) s = dashboard.Register(http);
  if (s.ok()) s = http.Start();
  if (!s.ok()) return FailDaemon(s);

  // gRPC: the services of RegisterCtldServices plus gRPC's health service.
  std::vector<std::unique_ptr<grpc::Service>> services;  // outlive the server
  std::unique_ptr<grpc::Server> grpc_server;
  int grpc_port = 0;
  if (f.grpc_port >= 0) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat(f.bind_address, ":", f.grpc_port),
                             *credentials, &grpc_port);
    services = ctld::RegisterCtldServices(builder, {&ts, &election, &registry});
    grpc_server = builder.BuildAndStart();
    if (grpc_server == nullptr || grpc_port == 0) {
      http.Stop();
      return FailDaemon(absl::UnavailableError(
          absl::StrCat("cannot listen for gRPC on ", f.bind_address, ":", f.grpc_port)));
    }
  }

  election.SetAddresses(grpc_port > 0 ? Advertised(f.bind_address, grpc_port) : "",
                        Advertised(f.bind_address, http.port()));
  cluster.Start();
  s = election.Start();
  if (!s.ok()) {
    if (grpc_server != nullptr) grpc_server->Shutdown();
    http.Stop();
    return FailDaemon(s);
  }
  spdlog::info("ctld {} started: topology {}, failover after {}, grpc port {}, http port {}",
               election.holder(), f.topo, absl::FormatDuration(options.failover_after), grpc_port,
               http.port());
  std::cout << "shale ctld: grpc_port=" << grpc_port << " http_port=" << http.port()
            << " dashboard=http://" << http.address() << "/" << std::endl;

  stop.WaitForNotification();
  election.Stop();  // a leader steps down: failover stops, the record says it resigned
  failover.Stop();
  if (grpc_server != nullptr) grpc_server->Shutdown();
  cluster.Stop();
  http.Stop();
  spdlog::info("ctld stopped");
  return 0;
}

}  // namespace shale::cmd
