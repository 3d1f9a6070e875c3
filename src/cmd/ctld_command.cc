#include "cmd/ctld_command.h"

#include <signal.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "base/http/status_server.h"
#include "base/metrics/registry.h"
#include "cmd/ctl_command.h"
#include "cmd/daemon.h"
#include "cmd/duration_flag.h"
#include "ctld/failover.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "topo/open/open.h"

namespace shale::cmd {
namespace {

// Logs go to stderr, one line each (time, level, process); stdout carries
// only the line that names the status port.
void SetUpLogging() {
  auto logger = spdlog::stderr_color_mt("ctld");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l ctld pid=%P %v",
                      spdlog::pattern_time_type::utc);
}

constexpr char kFooter[] = R"(
ctld watches the primary of every shard in the topology: it keeps a health
stream open to each primary and pings it when the stream breaks or goes
quiet. When a primary has not answered for --failover-after, ctld runs
EmergencyReparentShard on its shard: the most advanced reachable replica
becomes the primary with a new term and the others follow it. The shard lock
keeps two ctlds (or a ctld and an operator) from acting at once; a ctld that
gets the lock after another one acted finds the primary changed and does
nothing. Shards without a primary are left alone (PlannedReparentShard elects
the first one).

Status port: /debug/status (page), /debug/failover (JSON: shards, primaries
and recent failovers), /debug/vars, /metrics (shale_ctld_failovers_total,
shale_ctld_failover_seconds), /healthz. ctld prints the port on stdout.
SIGTERM or SIGINT stops it cleanly.)";

}  // namespace

void AddCtldCommand(CLI::App& app, CtldFlags* f) {
  f->topo = DefaultTopoAddress();
  CLI::App* cmd = app.add_subcommand(
      "ctld", "The controller: replaces a primary that stops answering (automatic failover)");
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
  cmd->add_option("--bind-address", f->bind_address, "Address the status port listens on")
      ->capture_default_str();
  cmd->add_option("--http-port", f->http_port,
                  "Status port (/debug/status, /debug/failover, /metrics); 0 picks a free port")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--topo-wait", f->topo_wait_s,
                  "Seconds startup waits for an unavailable topology")
      ->capture_default_str();
  cmd->callback([f] { f->chosen = true; });
}

int RunCtld(const CtldFlags& f) {
  SetUpLogging();
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

  // Stop signals first (threads inherit the mask); they also cut short the
  // topology wait.
  StopSignals signals;
  absl::Notification& stop = signals.stop();
  absl::StatusOr<std::unique_ptr<topo::Server>> ts_or =
      OpenTopologyWithRetry(f.topo, f.topo == DefaultTopoAddress(),
                            absl::Now() + absl::Seconds(f.topo_wait_s), stop);
  if (!ts_or.ok()) return stop.HasBeenNotified() ? 0 : FailDaemon(ts_or.status());
  topo::Server& ts = **ts_or;

  metrics::MetricsRegistry registry;
  options.metrics = &registry;
  ctld::FailoverController failover(&ts, options);

  http::StatusServerOptions ho;
  ho.bind_address = f.bind_address;
  ho.port = f.http_port;
  ho.process_name = "ctld";
  ho.title = "shale ctld";
  http::StatusServer http(ho, &registry);
  http.AddVars("ctld", [&failover] { return failover.StatusJson(); });
  http.AddStatusSection("Failover", [&failover] { return failover.StatusHtml(); });
  absl::Status s = http.Handle("/debug/failover", [&failover](const http::HttpRequest&) {
    return http::HttpResponse::Json(200, failover.StatusJson().dump(2) + "\n");
  });
  if (s.ok()) s = http.Start();
  if (!s.ok()) return FailDaemon(s);
  s = failover.Start();
  if (!s.ok()) {
    http.Stop();
    return FailDaemon(s);
  }
  spdlog::info("ctld started: topology {}, failover after {}, status port {}", f.topo,
               absl::FormatDuration(options.failover_after), http.port());
  std::cout << "shale ctld: status at http://" << http.address() << "/ (http_port=" << http.port()
            << ")" << std::endl;

  stop.WaitForNotification();
  failover.Stop();
  http.Stop();
  spdlog::info("ctld stopped");
  return 0;
}

}  // namespace shale::cmd
