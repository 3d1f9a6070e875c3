#pragma once

// `shale gate`: the gateway (DESIGN §1, §5). PostgreSQL clients connect to
// --pg-port; it routes each statement to the right healthy tablet. Runs until
// SIGTERM or SIGINT, then stops cleanly. Confined to the main thread (plus
// the gateway's own threads).

#include <string>

#include "CLI/CLI.hpp"
#include "base/grpc_tls/tls_options.h"

namespace shale::cmd {

// The parsed flags of one `shale gate` invocation.
struct GateFlags {
  bool chosen = false;
  std::string topo;
  std::string cell;
  std::string bind_address = "127.0.0.1";
  int pg_port = 15432;
  int grpc_port = 15991;
  int http_port = 15101;
  std::string buffer_window = "10s";
  int buffer_size = 1000;
  std::string transaction_mode = "multi";
  std::string auth_file;
  std::string tls_cert;
  std::string tls_key;
  int max_connections = 1000;
  double topo_wait_s = 30;
  grpc_tls::TlsOptions grpc_tls;  // client side: how to dial tablets and ctld
};

void AddGateCommand(CLI::App& app, GateFlags* flags);

// Runs the gateway until a signal; returns the process exit code (0 after a
// clean shutdown, 1 if startup failed, with one "error: ..." line on stderr).
int RunGate(const GateFlags& flags);

}  // namespace shale::cmd
