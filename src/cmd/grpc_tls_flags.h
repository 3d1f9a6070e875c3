#pragma once

// The --grpc-tls-* flags of cluster-internal gRPC, shared by `shale tablet`,
// `shale ctld`, `shale gate` and `shale ctl` (base/grpc_tls does the work),
// and the address a process publishes for its ports. Confined to the main
// thread.

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "base/grpc_tls/tls_options.h"

namespace shale::cmd {

// Which side of gRPC a command's flags configure.
enum class GrpcTlsRole {
  kClient,            // gate, ctl: dial tablets and ctld
  kServerAndClient,   // tablet, ctld: serve gRPC and dial tablets
};

// Adds --grpc-tls-cert, --grpc-tls-key, --grpc-tls-ca, --grpc-tls-server-name
// (and, for servers, --grpc-tls-client-auth) to cmd, filling *options.
void AddGrpcTlsFlags(CLI::App* cmd, grpc_tls::TlsOptions* options, GrpcTlsRole role);

// Checks the flags and sets the process's client credentials from them
// (grpc_tls::SetClientTls). InvalidArgument naming the flag.
absl::Status ApplyClientTls(const grpc_tls::TlsOptions& options);

// The host others dial for a port bound to bind_address: the address itself,
// or this machine's host name when it binds every interface (0.0.0.0, ::).
std::string AdvertisedHost(const std::string& bind_address);

}  // namespace shale::cmd
