#pragma once

// `shale tablet`: serves one tablet (DESIGN §3, issue 4). Parses the flags,
// opens the topology, runs a tablet::TabletServer until SIGTERM or SIGINT,
// then shuts it down cleanly. Confined to the main thread.

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "base/grpc_tls/tls_options.h"

namespace shale::cmd {

// The parsed flags of one `shale tablet` invocation.
struct TabletFlags {
  bool chosen = false;  // the tablet command was given
  std::string topo;
  std::string alias;
  std::string keyspace;
  std::string shard;
  std::string init_type;
  std::string db_name;
  std::string data_dir;
  std::string hostname;  // "": derived from bind_address (PublishedHostname)
  std::string bind_address = "127.0.0.1";
  grpc_tls::TlsOptions grpc_tls;
  int grpc_port = 0;
  int session_port = 0;
  int http_port = 0;
  double health_interval_s = 5;
  double txn_idle_timeout_s = 30;
  double topo_wait_s = 30;
  double heartbeat_interval_s = 1;
  double semi_sync_timeout_s = 1;
  int64_t log_retention = 1000000;
  int max_in_flight = 256;
  std::string synchronous = "full";
};

void AddTabletCommand(CLI::App& app, TabletFlags* flags);

// Runs the tablet until a signal; returns the process exit code (0 after a
// clean shutdown, 1 if startup failed, with one "error: ..." line on stderr).
int RunTablet(const TabletFlags& flags);

}  // namespace shale::cmd
