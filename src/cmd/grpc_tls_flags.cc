#include "cmd/grpc_tls_flags.h"

#include <unistd.h>

#include "base/grpc_tls/credentials.h"

namespace shale::cmd {

void AddGrpcTlsFlags(CLI::App* cmd, grpc_tls::TlsOptions* o, GrpcTlsRole role) {
  const bool server = role == GrpcTlsRole::kServerAndClient;
  cmd->add_option("--grpc-tls-cert", o->cert_file,
                  server ? "TLS certificate chain (PEM) of the gRPC port: turns on TLS for it "
                           "(needs --grpc-tls-key); also presented to servers that ask for a "
                           "client certificate. Default: plaintext gRPC"
                         : "Client certificate chain (PEM) for gRPC servers that require one "
                           "(--grpc-tls-client-auth); needs --grpc-tls-key")
      ->check(CLI::ExistingFile)
      ->group("gRPC TLS");
  cmd->add_option("--grpc-tls-key", o->key_file, "Private key (PEM) of --grpc-tls-cert")
      ->check(CLI::ExistingFile)
      ->group("gRPC TLS");
  cmd->add_option("--grpc-tls-ca", o->ca_file,
                  "CA bundle (PEM): dial tablets and ctld over TLS and verify their "
                  "certificates against it (every process of a TLS cluster needs it)")
      ->check(CLI::ExistingFile)
      ->group("gRPC TLS");
  cmd->add_option("--grpc-tls-server-name", o->server_name,
                  "Name the servers' certificates must carry, instead of the host dialled "
                  "(for one certificate shared by all tablets)")
      ->group("gRPC TLS");
  if (server) {
    cmd->add_flag("--grpc-tls-client-auth", o->require_client_cert,
                  "Mutual TLS: refuse gRPC clients without a certificate signed by "
                  "--grpc-tls-ca (then every client needs --grpc-tls-cert/--grpc-tls-key)")
        ->group("gRPC TLS");
  }
}

absl::Status ApplyClientTls(const grpc_tls::TlsOptions& options) {
  return grpc_tls::SetClientTls(options);
}

std::string AdvertisedHost(const std::string& bind_address) {
  if (bind_address == "0.0.0.0" || bind_address == "::" || bind_address.empty()) {
    char name[256] = {0};
    gethostname(name, sizeof(name) - 1);
    return name;
  }
  return bind_address;
}

}  // namespace shale::cmd
