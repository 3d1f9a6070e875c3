#pragma once

// `shale ctld`: the controller (DESIGN §1). Several may run on one topology:
// ctld::LeaderElection picks the leader, which alone runs automatic failover
// (ctld::FailoverController); every ctld serves the dashboard
// (ctld::Dashboard) and its status port, and a gRPC port for the services of
// ctld::RegisterCtldServices. Runs until SIGTERM or SIGINT, then stops
// cleanly. Confined to the main thread (plus one signal-waiting thread).

#include <string>

#include "CLI/CLI.hpp"
#include "base/grpc_tls/tls_options.h"

namespace shale::cmd {

// The parsed flags of one `shale ctld` invocation.
struct CtldFlags {
  bool chosen = false;  // the ctld command was given
  std::string topo;
  std::string failover_after = "1.5s";
  std::string discovery_interval = "5s";
  std::string retry_interval = "5s";
  std::string bind_address = "127.0.0.1";
  grpc_tls::TlsOptions grpc_tls;
  int http_port = 0;
  int grpc_port = 15999;  // 0 picks a free port; -1 serves no gRPC
  double topo_wait_s = 30;
};

void AddCtldCommand(CLI::App& app, CtldFlags* flags);

// Runs ctld until a signal; returns the process exit code (0 after a clean
// shutdown, 1 if startup failed, with one "error: ..." line on stderr).
int RunCtld(const CtldFlags& flags);

}  // namespace shale::cmd
